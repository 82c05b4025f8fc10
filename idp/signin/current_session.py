"""This browser's IdP session: find it, start it when a sign-in, a step-up or a registration
proves who the person is, and end it. The Flask side of SessionService (cookies and the
per-request cache); idp.signin.current re-exports current_session and end_current_session,
which are part of its contract with the OIDC endpoints.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, g, request

from idp.audit import EventTag, record_event
from idp.context import app_context
from idp.extensions import db
from idp.oidc.revocation import hand_over_grants
from idp.signin.assurance import ACR_ORDER, AMR_PASSWORD, acr_for, with_mfa
from idp.signin.flow import (
    PARTNER,
    Step,
    factor_amr,
    partner_amr,
    partner_level,
    second_factors_used,
)
from idp.signin.models import SigninTransaction, UserSession
from idp.signin.sessions import SessionService
from idp.web import cookies

_NO_SESSION = object()


def get_session_service() -> SessionService:
    ctx = app_context()
    return SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher)


def current_session() -> UserSession | None:
    """The live IdP session of this browser, or None (absent, ended, idle, expired).

    Cached for the request. Commits when it records activity (at most once a minute), so
    call it before changing anything else in the request.
    """
    cached = g.get("idp_current_session", _NO_SESSION)
    if cached is not _NO_SESSION:
        return cached
    user_session = get_session_service().find_active(request.cookies.get(cookies.session_cookie_name()))
    if user_session is not None and db.session.is_modified(user_session):
        db.session.commit()  # the idle timeout counts from this activity
    g.idp_current_session = user_session
    return user_session

def authentication_methods(txn: SigninTransaction) -> tuple[list[str], datetime]:
    """The amr values of the steps this transaction actually did, and when authentication
    finished (the last of them): what its session and ID tokens claim."""
    if PARTNER in txn.steps_done and Step.PASSWORD.value not in txn.steps_done:
        amr = partner_amr(txn)
        times = [datetime.fromisoformat(txn.steps_done[PARTNER])]
    else:
        amr = [AMR_PASSWORD]
        times = [datetime.fromisoformat(txn.steps_done[Step.PASSWORD.value])]
    for factor in second_factors_used(txn):
        amr.extend(value for value in factor_amr(factor, txn.steps_done) if value not in amr)
        times.append(datetime.fromisoformat(txn.steps_done[factor]))
    return with_mfa(amr), max(times)


def start_session(txn: SigninTransaction) -> str:
    """A new authentication always gets a new session and handle: the old cookie, even
    the same person's, stops working (session fixation, SES-03). Returns the plain handle
    for the cookie; the caller records the step and commits."""
    sessions = get_session_service()
    previous = current_session()
    if previous is not None:
        # The same person keeps the relying parties signed in (hand_over_grants below);
        # someone else's session ends for them too.
        sessions.end(previous.id, notify=previous.user_id != txn.user_id)
    amr, auth_time = authentication_methods(txn)
    acr = max(acr_for(amr), partner_level(txn) or acr_for(amr), key=ACR_ORDER.index)
    user_session, plain_handle = sessions.create(txn.user_id, amr, acr, auth_time, request.user_agent.string)
    if previous is not None and previous.user_id == txn.user_id:
        hand_over_grants(sessions, previous.id, user_session.id)
    ctx = app_context()
    record_event(
        db.session, ctx.clock, EventTag.SIGNIN_SUCCESS, user_id=txn.user_id,
        ip_address=request.remote_addr, user_agent=request.user_agent.string,
        amr=amr, acr=acr, client_id=txn.client_id,
    )
    g.idp_current_session = user_session
    return plain_handle


def step_up_session(txn: SigninTransaction) -> str:
    """A step-up finished: a new session (new handle, ASVS 7.2.4: a raised privilege gets a
    new session) carries the reused session's methods plus this transaction's factors, the
    level they reach and a new auth_time (OIDC Core §2: when the person last authenticated)."""
    sessions = get_session_service()
    previous = current_session()
    amr = list(previous.amr or [])
    times = []
    for factor in second_factors_used(txn):
        amr.extend(value for value in factor_amr(factor, txn.steps_done) if value not in amr)
        times.append(datetime.fromisoformat(txn.steps_done[factor]))
    amr = with_mfa(amr)
    acr = acr_for(amr)
    sessions.end(previous.id, notify=False)  # its relying parties stay, handed over below
    user_session, plain_handle = sessions.create(txn.user_id, amr, acr, max(times), request.user_agent.string)
    hand_over_grants(sessions, previous.id, user_session.id)
    ctx = app_context()
    record_event(
        db.session, ctx.clock, EventTag.SIGNIN_SUCCESS, user_id=txn.user_id,
        ip_address=request.remote_addr, user_agent=request.user_agent.string,
        amr=amr, acr=acr, client_id=txn.client_id, step_up=True,
    )
    g.idp_current_session = user_session
    return plain_handle

def end_current_session(response: Response) -> None:
    """End this browser's IdP session server-side (if any) and delete its cookie. Commits."""
    user_session = current_session()
    if user_session is not None:
        get_session_service().end(user_session.id)
        db.session.commit()
    g.idp_current_session = None
    cookies.delete_private_cookie(response, cookies.session_cookie_name())

def start_session_for(response: Response, user_id: int, amr: list[str], acr: str) -> None:
    """Start a session for a person who proved who they are outside a sign-in transaction
    (a registration's activation link and new password) and set its cookie on response.

    Like a sign-in, the browser's previous session ends (session fixation, SES-03). Call
    current_session() before changing anything else in the request; the caller commits.
    """
    sessions = get_session_service()
    previous = current_session()
    if previous is not None:
        sessions.end(previous.id)
    user_session, plain_handle = sessions.create(user_id, amr, acr, app_context().clock(), request.user_agent.string)
    g.idp_current_session = user_session
    cookies.set_private_cookie(response, cookies.session_cookie_name(), plain_handle)
