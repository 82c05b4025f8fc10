"""Locks that wait for an unlock (issue 9): after SIGNIN_TEMPORARY_LOCKS temporary locks in a
row the next one has no end until the emailed link (single use, expiring, replaced by a newer
one) or an operator ends it; every lock is emailed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from idp.accounts.errors import UnknownAccount, UnlockLinkExpired, UnlockLinkReplaced, UnlockLinkUnknown, UnlockLinkUsed
from idp.accounts.models import UnlockLink
from idp.accounts.throttle import AttemptDecision, SigninThrottle
from idp.accounts.unlock import UNLOCK_PATH, UnlockService
from idp.audit import EventTag, SecurityEvent
from idp.context import app_context
from idp.extensions import db
from idp.mail.models import OutboxMessage
from idp.mail.services import MailService
from tests.unit.accounts.test_throttle import mail  # noqa: F401  (a fixture; ctx and user: conftest.py)


@pytest.fixture
def unlock(ctx):  # noqa: F811
    return UnlockService(db.session, ctx.settings, ctx.clock, ctx.hasher)


@pytest.fixture
def throttle(ctx, mail, unlock):  # noqa: F811
    return SigninThrottle(db.session, ctx.settings, ctx.clock, mail=mail, unlock=unlock)


def emails(template: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)))


def lock_once(throttle, user, clock, ctx) -> bool:
    """Wait out whatever holds the account, then fail until it locks; returns the last answer."""
    clock.advance(ctx.settings.SIGNIN_LOCK_DURATION)
    locked = False
    while not locked:
        clock.advance(ctx.settings.SIGNIN_MAX_DELAY)
        locked = throttle.record_failure(user, locale="en")
    return locked


def token_in(message: OutboxMessage) -> str:
    ctx = app_context()
    url = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box).context_of(message)["unlock_url"]
    assert url.startswith("http://127.0.0.1:5000" + UNLOCK_PATH + "/")
    return url.rsplit("/", 1)[1]


def lock_until_unlocked(throttle, user, clock, ctx) -> None:
    for _ in range(ctx.settings.SIGNIN_TEMPORARY_LOCKS + 1):
        lock_once(throttle, user, clock, ctx)


def test_after_the_temporary_locks_the_next_lock_has_no_end(throttle, user, clock, ctx):
    for lock in range(ctx.settings.SIGNIN_TEMPORARY_LOCKS):
        lock_once(throttle, user, clock, ctx)
        assert throttle.decision(user) is AttemptDecision.LOCKED
        clock.advance(ctx.settings.SIGNIN_LOCK_DURATION)
        assert throttle.decision(user) is AttemptDecision.ALLOWED, f"temporary lock {lock + 1}"
    lock_once(throttle, user, clock, ctx)
    assert user.unlock_required_at is not None
    for _ in range(30):
        clock.advance(timedelta(days=1).total_seconds())
        assert throttle.decision(user) is AttemptDecision.LOCKED


def test_every_lock_is_emailed_and_the_last_email_carries_an_unlock_link(throttle, user, clock, ctx):
    lock_until_unlocked(throttle, user, clock, ctx)
    assert len(emails("account-locked")) == ctx.settings.SIGNIN_TEMPORARY_LOCKS
    [message] = emails("account-unlock")
    assert message.to_address == "ana@example.ca" and message.user_id == user.id and message.locale == "en"
    assert db.session.scalar(select(func.count()).where(SecurityEvent.tag == str(EventTag.ACCOUNT_UNLOCK_REQUIRED))) == 1


def test_the_unlock_link_ends_the_lock_once(throttle, unlock, user, clock, ctx):
    lock_until_unlocked(throttle, user, clock, ctx)
    [message] = emails("account-unlock")
    token = token_in(message)
    link, found = unlock.find_link(token)
    assert found is user and link.used_at is None  # opening it spends nothing
    assert throttle.decision(user) is AttemptDecision.LOCKED
    assert unlock.unlock_with_link(token, ip_address="192.0.2.1") is user
    assert throttle.decision(user) is AttemptDecision.ALLOWED
    assert (user.failed_signin_count, user.signin_lock_count, user.unlock_required_at) == (0, 0, None)
    with pytest.raises(UnlockLinkUsed):
        unlock.unlock_with_link(token)
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.ACCOUNT_UNLOCKED)))
    assert event.details == {"by": "link"} and event.ip_address == "192.0.2.1"


def test_an_unlocked_account_starts_again_with_its_temporary_locks(throttle, unlock, user, clock, ctx):
    lock_until_unlocked(throttle, user, clock, ctx)
    unlock.unlock_with_link(token_in(emails("account-unlock")[0]))
    lock_once(throttle, user, clock, ctx)
    clock.advance(ctx.settings.SIGNIN_LOCK_DURATION)
    assert throttle.decision(user) is AttemptDecision.ALLOWED


def test_the_unlock_link_expires(throttle, unlock, user, clock, ctx):
    lock_until_unlocked(throttle, user, clock, ctx)
    token = token_in(emails("account-unlock")[0])
    clock.advance(ctx.settings.SIGNIN_UNLOCK_LINK_TTL)
    with pytest.raises(UnlockLinkExpired):
        unlock.unlock_with_link(token)
    assert throttle.decision(user) is AttemptDecision.LOCKED


def test_a_newer_link_replaces_the_older_one(unlock, user):
    older = unlock.issue_link(user)
    newer = unlock.issue_link(user)
    with pytest.raises(UnlockLinkReplaced):
        unlock.find_link(older)
    assert unlock.find_link(newer)[1] is user


@pytest.mark.parametrize("token", [None, "", "not-a-token", "x" * 500])
def test_an_unknown_token_is_refused(unlock, token):
    with pytest.raises(UnlockLinkUnknown):
        unlock.find_link(token)


def test_a_link_stops_working_when_the_address_changes(unlock, user):
    token = unlock.issue_link(user)
    user.email = "ana.tremblay@example.ca"
    db.session.flush()
    with pytest.raises(UnlockLinkUnknown):
        unlock.find_link(token)


def test_only_the_keyed_hash_of_the_token_is_stored(unlock, user):
    token = unlock.issue_link(user)
    stored = db.session.scalar(select(UnlockLink.token_hash))
    assert token not in stored and len(stored) == 64


def test_an_operator_unlocks_by_address(throttle, unlock, user, clock, ctx):
    lock_until_unlocked(throttle, user, clock, ctx)
    token = token_in(emails("account-unlock")[0])
    unlocked, was_waiting = unlock.unlock_by_operator(" Ana@Example.ca ")
    assert unlocked is user and was_waiting
    assert throttle.decision(user) is AttemptDecision.ALLOWED
    with pytest.raises(UnlockLinkReplaced):  # the emailed link is spent with the lock
        unlock.find_link(token)
    with pytest.raises(UnknownAccount):
        unlock.unlock_by_operator("nobody@example.ca")
    with pytest.raises(UnknownAccount):
        unlock.unlock_by_operator("not an address")


def test_a_complete_sign_in_or_a_reset_clears_the_temporary_locks_too(throttle, user, clock, ctx):
    for _ in range(ctx.settings.SIGNIN_TEMPORARY_LOCKS):
        lock_once(throttle, user, clock, ctx)
    throttle.clear_failures(user)
    assert user.signin_lock_count == 0
    lock_once(throttle, user, clock, ctx)
    assert user.unlock_required_at is None


def test_a_password_reset_ends_a_lock_waiting_for_an_unlock(throttle, user, clock, ctx):
    lock_until_unlocked(throttle, user, clock, ctx)
    throttle.clear_failures(user)  # what RecoveryService.reset_password calls
    assert throttle.decision(user) is AttemptDecision.ALLOWED


def test_without_a_way_to_make_links_the_lock_is_recorded_but_not_emailed(ctx, user, clock):
    mail = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)
    throttle = SigninThrottle(db.session, ctx.settings, ctx.clock, mail=mail)
    lock_until_unlocked(throttle, user, clock, ctx)
    assert throttle.decision(user) is AttemptDecision.LOCKED
    assert emails("account-unlock") == []
