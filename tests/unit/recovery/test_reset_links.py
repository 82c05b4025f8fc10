"""RecoveryService on a real database: who gets what from "can't sign in?", and reset links
that expire at PASSWORD_RESET_TTL by the clock, work once, are replaced by a newer one and
are spent by exactly one of two racing submissions (REC-03, REC-05, REC-06, R2)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idp.accounts.errors import InvalidEmail, WeakPassword
from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.mail.models import OutboxMessage
from idp.recovery.errors import (
    ResetLinkExpired,
    ResetLinkReplaced,
    ResetLinkUnknown,
    ResetLinkUsed,
)
from idp.recovery.models import PasswordReset
from idp.recovery.services import RESET_PURPOSE, HelpOutcome
from idp.signin.assurance import ACR_PASSWORD
from idp.signin.models import UserSession
from idp.signin.sessions import SessionService
from tests.unit.recovery.conftest import NEW_PASSWORD, PASSWORD, build_recovery_service


def outbox(template: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if template:
        query = query.where(OutboxMessage.template == template)
    return list(db.session.scalars(query))


def events(tag: EventTag) -> list[SecurityEvent]:
    return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(tag))))


# Who gets what


def test_an_active_account_gets_a_reset_link_in_the_page_language(recovery, user, ctx):
    assert recovery.request_help(" ANA@example.ca ", locale="en", ip_address="192.0.2.7") is HelpOutcome.RESET_LINK
    [message] = outbox()
    assert (message.template, message.to_address, message.locale, message.user_id) == (
        "password-reset", "ana@example.ca", "en", user.id)
    context = recovery.mail.context_of(message)
    # The link is built from the configured issuer, never from a request's Host (REC-04).
    assert context["reset_url"].startswith(ctx.settings.OIDC_ISSUER + "/signin/reset/")
    assert context["ttl_minutes"] == 60
    [event] = events(EventTag.RECOVERY_REQUESTED)
    assert (event.user_id, event.ip_address, event.details) == (user.id, "192.0.2.7", {"outcome": "reset_link"})


def test_a_pending_account_gets_its_activation_email_again_and_no_reset_link(recovery, user, activations):
    user.activated_at = None
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.ACTIVATION
    assert activations == [user]
    assert outbox("password-reset") == []
    assert db.session.scalar(select(func.count(PasswordReset.id))) == 0


def test_an_unknown_address_gets_no_mail_at_all_and_one_anonymous_event(recovery, activations):
    assert recovery.request_help("nobody@example.ca", locale="fr") is HelpOutcome.NOTHING
    assert outbox() == [] and activations == []
    [event] = events(EventTag.RECOVERY_REQUESTED)
    assert event.user_id is None and "nobody" not in str(event.details)


def test_a_disabled_account_gets_nothing(recovery, user, clock, activations):
    user.disabled_at = clock()
    assert recovery.request_help("ana@example.ca", locale="fr") is HelpOutcome.NOTHING
    assert outbox() == [] and activations == []


@pytest.mark.parametrize("typed", ["", "ana", "ana@@example.ca", "ana@example.ca\r\nBcc: x@evil.example", "a" * 400 + "@x.ca"])
def test_a_malformed_address_is_a_typing_error_for_everyone(recovery, typed):
    with pytest.raises(InvalidEmail):
        recovery.request_help(typed, locale="fr")


# Tokens


def test_only_the_keyed_hash_of_a_256_bit_token_is_stored(recovery, user, ctx):
    plain_token = recovery.issue_reset(user)
    reset = db.session.scalar(select(PasswordReset))
    assert len(plain_token) >= 43
    assert reset.token_hash == ctx.hasher.hash(RESET_PURPOSE, plain_token) != plain_token
    assert plain_token not in str([reset.token_hash, reset.email])


def test_a_link_works_until_the_ttl_then_expires_by_the_clock(recovery, user, clock):
    plain_token = recovery.issue_reset(user)
    clock.advance(seconds=3599)
    assert recovery.find_reset(plain_token)[1] is user
    clock.advance(seconds=1)
    with pytest.raises(ResetLinkExpired):
        recovery.find_reset(plain_token)
    with pytest.raises(ResetLinkExpired):
        recovery.reset_password(plain_token, NEW_PASSWORD, locale="fr")


@pytest.mark.settings(PASSWORD_RESET_TTL=600)
def test_the_ttl_is_a_setting(recovery, user, clock):
    plain_token = recovery.issue_reset(user)
    clock.advance(seconds=600)
    with pytest.raises(ResetLinkExpired):
        recovery.find_reset(plain_token)


def test_opening_a_link_does_not_spend_it(recovery, user):
    plain_token = recovery.issue_reset(user)
    for _ in range(3):
        recovery.find_reset(plain_token)
    recovery.reset_password(plain_token, NEW_PASSWORD, locale="fr")


def test_a_link_works_once(recovery, user, ctx):
    plain_token = recovery.issue_reset(user)
    recovery.reset_password(plain_token, NEW_PASSWORD, locale="fr")
    db.session.commit()
    assert ctx.passwords.verify(user.password_hash, NEW_PASSWORD)
    with pytest.raises(ResetLinkUsed):
        recovery.find_reset(plain_token)
    with pytest.raises(ResetLinkUsed):
        recovery.reset_password(plain_token, "Another-Good-Password-7", locale="fr")
    assert ctx.passwords.verify(user.password_hash, NEW_PASSWORD)


def test_a_newer_request_replaces_every_older_link(recovery, user):
    first = recovery.issue_reset(user)
    second = recovery.issue_reset(user)
    recovery.request_help("ana@example.ca", locale="fr")
    for older in (first, second):
        with pytest.raises(ResetLinkReplaced):
            recovery.find_reset(older)
    newest = db.session.scalars(select(PasswordReset).order_by(PasswordReset.id.desc())).first()
    assert newest.revoked_at is None


def test_a_refused_password_leaves_the_link_unspent(recovery, user):
    plain_token = recovery.issue_reset(user)
    with pytest.raises(WeakPassword):
        recovery.reset_password(plain_token, "short", locale="fr")
    with pytest.raises(WeakPassword):  # the policy knows the person: no name in the password
        recovery.reset_password(plain_token, "Tremblay-Soleil-2024", locale="fr")
    recovery.reset_password(plain_token, NEW_PASSWORD, locale="fr")


@pytest.mark.parametrize("token", [None, "", "x", "A" * 43, "A" * 5000])
def test_unknown_tokens_are_refused(recovery, user, token):
    recovery.issue_reset(user)
    with pytest.raises(ResetLinkUnknown):
        recovery.find_reset(token)


def test_a_link_stops_working_when_the_account_is_disabled_or_its_address_changes(recovery, user, clock):
    plain_token = recovery.issue_reset(user)
    user.email = "ana.new@example.ca"
    with pytest.raises(ResetLinkUnknown):
        recovery.find_reset(plain_token)
    user.email = "ana@example.ca"
    user.disabled_at = clock()
    with pytest.raises(ResetLinkUnknown):
        recovery.find_reset(plain_token)


def test_two_racing_submissions_spend_the_link_exactly_once(ctx, user, activations, cleared):
    """Each racer finds the link usable, then both spend it: the conditional UPDATE lets one win."""
    plain_token = build_recovery_service(ctx, db.session, activations, cleared).issue_reset(user)
    db.session.commit()
    first_session, second_session = Session(db.engine), Session(db.engine)
    try:
        first = build_recovery_service(ctx, first_session, activations, cleared)
        second = build_recovery_service(ctx, second_session, activations, cleared)
        first.find_reset(plain_token)
        second.find_reset(plain_token)
        first.reset_password(plain_token, NEW_PASSWORD, locale="fr")
        first_session.commit()
        with pytest.raises(ResetLinkUsed):
            second.reset_password(plain_token, "Second-Racer-Password-9", locale="fr")
        second_session.rollback()
    finally:
        first_session.close()
        second_session.close()
    db.session.expire_all()
    assert ctx.passwords.verify(db.session.get(type(user), user.id).password_hash, NEW_PASSWORD)
    assert len(events(EventTag.PASSWORD_RESET)) == 1


# What a reset does


def test_a_reset_ends_every_session_records_an_event_and_notifies(recovery, user, ctx, clock, cleared):
    sessions = SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher)
    for _ in range(2):
        sessions.create(user.id, ["pwd"], ACR_PASSWORD, clock(), "Firefox")
    plain_token = recovery.issue_reset(user)
    recovery.reset_password(plain_token, NEW_PASSWORD, locale="en", ip_address="192.0.2.9")
    db.session.commit()
    assert all(each.ended_at is not None for each in db.session.scalars(select(UserSession)))
    [event] = events(EventTag.PASSWORD_RESET)
    assert (event.user_id, event.ip_address) == (user.id, "192.0.2.9")
    [notice] = outbox("password-changed")
    assert (notice.to_address, notice.locale) == ("ana@example.ca", "en")
    assert recovery.mail.context_of(notice)["by_reset"] is True
    assert cleared == [user]
    assert not ctx.passwords.verify(user.password_hash, PASSWORD)
