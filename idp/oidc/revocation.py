"""Ending a person's access everywhere: every session and every grant, offline_access
included. A password change or reset and an account disabled by an operator call it, so
whoever held the old password, or a token it let them get, holds nothing any more
(RFC 9700 §4.14, security checklist SES-*; docs/oidc.md, How tokens end).

Ending an organization membership ends less: end_organization_access.

A sign-out or an expiry needs no call: a grant without offline_access lives only while its
session does (TokenService.find_active_*).
"""

from __future__ import annotations

from idp.logout.services import LogoutService
from idp.oidc.claims import ORGANIZATION_SCOPE
from idp.oidc.tokens import TokenService
from idp.signin.sessions import SessionService


def end_all_access(sessions: SessionService, user_id: int, *, keep_session_id: int | None = None) -> int:
    """End every session of the person except keep_session_id (the one that changed the
    password stays signed in, ASVS 7.4.3), every token of every grant, and every code not
    yet redeemed. Returns how many sessions ended. Never commits."""
    ended = sessions.end_all_for_user(user_id, except_session_id=keep_session_id)
    TokenService(sessions.session, sessions.settings, sessions.clock, sessions.hasher).revoke_all_for_user(user_id)
    return ended


def end_organization_access(sessions: SessionService, user_id: int) -> int:
    """A membership ended, or its organization was disabled (issue 11): end every session of
    the person, so a relying party's grant without offline_access ends with it, and every
    grant whose scope includes `organization`, offline_access included. A grant that never
    carried the organization and has offline_access lives on: the account stays, and what
    it released was never the organization's. Returns how many sessions ended. Never commits."""
    ended = sessions.end_all_for_user(user_id)
    TokenService(sessions.session, sessions.settings, sessions.clock, sessions.hasher).revoke_grants_with_scope(
        user_id, ORGANIZATION_SCOPE)
    return ended


def hand_over_grants(sessions: SessionService, old_session_id: int, new_session_id: int) -> None:
    """The same person's new session replaces the old one (a new sign-in of the same person,
    a step-up): its grants live on with the new session instead of ending with the old, and
    the relying parties it signed into hear when the new one ends (single sign-out)."""
    TokenService(sessions.session, sessions.settings, sessions.clock, sessions.hasher).move_to_session(
        old_session_id, new_session_id)
    LogoutService(sessions.session, sessions.settings, sessions.clock).hand_over(old_session_id, new_session_id)
