"""The per-account failure counter: progressive delay, temporary lock with one email per
lock, a reset on success, and counting that holds under concurrent attempts."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.accounts.throttle import PENDING_ATTEMPT_TTL, AttemptDecision, SigninThrottle, ThrottlePolicy
from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.mail.models import OutboxMessage
from idp.mail.services import MailService


@pytest.fixture
def mail(ctx):
    return MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)


@pytest.fixture
def throttle(ctx, mail):
    return SigninThrottle(db.session, ctx.settings, ctx.clock, mail=mail)


def fail(throttle, user, times: int = 1) -> list[bool]:
    return [throttle.record_failure(user) for _ in range(times)]


def lock_emails() -> int:
    return db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.template == "account-locked"))


def test_the_delay_doubles_from_the_third_failure_and_is_capped():
    policy = ThrottlePolicy(lock_threshold=10, lock_duration=timedelta(minutes=15), delay_after=3,
                            max_delay=timedelta(seconds=60))
    assert [policy.delay_for(n).total_seconds() for n in range(1, 10)] == [0, 0, 1, 2, 4, 8, 16, 32, 60]
    assert not policy.is_lock(9) and policy.is_lock(10)


def test_two_failures_leave_the_next_attempt_free(throttle, user):
    fail(throttle, user, 2)
    assert user.failed_signin_count == 2
    assert user.locked_until is None
    assert throttle.decision(user) is AttemptDecision.ALLOWED


def test_from_the_third_failure_an_attempt_must_wait(throttle, user, clock):
    fail(throttle, user, 3)
    assert throttle.decision(user) is AttemptDecision.TOO_EARLY
    clock.advance(1)
    assert throttle.decision(user) is AttemptDecision.ALLOWED
    fail(throttle, user)
    clock.advance(1.9)
    assert throttle.decision(user) is AttemptDecision.TOO_EARLY
    clock.advance(0.1)
    assert throttle.decision(user) is AttemptDecision.ALLOWED


def test_the_threshold_locks_for_the_lock_duration_and_emails_once(throttle, user, clock, ctx):
    locks = []
    for _ in range(ctx.settings.SIGNIN_LOCK_THRESHOLD):
        clock.advance(ctx.settings.SIGNIN_MAX_DELAY)
        locks.append(throttle.record_failure(user, locale="en"))
    assert locks == [False] * (ctx.settings.SIGNIN_LOCK_THRESHOLD - 1) + [True]
    assert throttle.decision(user) is AttemptDecision.LOCKED
    assert user.locked_until == clock() + timedelta(seconds=ctx.settings.SIGNIN_LOCK_DURATION)
    assert lock_emails() == 1
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == "account-locked"))
    assert message.to_address == "ana@example.ca" and message.user_id == user.id and message.locale == "en"
    assert db.session.scalar(select(func.count()).where(SecurityEvent.tag == str(EventTag.ACCOUNT_LOCKED))) == 1

    clock.advance(ctx.settings.SIGNIN_LOCK_DURATION - 1)
    assert throttle.decision(user) is AttemptDecision.LOCKED
    clock.advance(1)
    assert throttle.decision(user) is AttemptDecision.ALLOWED


def test_a_failure_after_a_lock_ends_locks_again_with_a_new_email(throttle, user, clock, ctx):
    user.failed_signin_count = ctx.settings.SIGNIN_LOCK_THRESHOLD - 1
    assert throttle.record_failure(user) is True
    clock.advance(ctx.settings.SIGNIN_LOCK_DURATION)
    assert throttle.record_failure(user) is True
    assert lock_emails() == 2


def test_the_lock_email_speaks_the_account_language_first(throttle, user, ctx):
    user.locale = "fr"
    user.failed_signin_count = ctx.settings.SIGNIN_LOCK_THRESHOLD - 1
    throttle.record_failure(user, locale="en")
    assert db.session.scalar(select(OutboxMessage.locale).where(OutboxMessage.template == "account-locked")) == "fr"


def test_clearing_failures_restarts_the_count(throttle, user, clock, ctx):
    user.failed_signin_count = ctx.settings.SIGNIN_LOCK_THRESHOLD - 1
    throttle.record_failure(user)
    throttle.clear_failures(user)
    assert user.failed_signin_count == 0 and user.locked_until is None
    assert throttle.decision(user) is AttemptDecision.ALLOWED
    assert user.last_failed_signin_at == clock()  # kept: when the last failure happened


def test_without_a_mail_service_a_lock_is_still_recorded(ctx, user):
    throttle = SigninThrottle(db.session, ctx.settings, ctx.clock)
    user.failed_signin_count = ctx.settings.SIGNIN_LOCK_THRESHOLD - 1
    assert throttle.record_failure(user) is True
    assert throttle.decision(user) is AttemptDecision.LOCKED
    assert lock_emails() == 0


def test_the_failure_recorder_hook_counts_like_record_failure(throttle, user):
    record = throttle.failure_recorder(ip_address="192.0.2.1")
    record(user)
    assert user.failed_signin_count == 1


def test_lock_row_reads_what_another_worker_committed(throttle, user, ctx):
    with Session(db.engine) as other_worker:
        other = other_worker.get(User, user.id)
        other.failed_signin_count = 7
        other_worker.commit()
    assert user.failed_signin_count == 0  # stale in this session's memory
    fresh = throttle.lock_row(user.id)
    assert fresh is user and user.failed_signin_count == 7
    db.session.rollback()


@pytest.mark.settings(SIGNIN_LOCK_THRESHOLD=100, SIGNIN_DELAY_AFTER=100)
def test_concurrent_failures_are_each_counted(ctx, user):
    """MFA-04 / keycloak#31726: parallel wrong guesses at one account, each from its own
    worker (connection), are all counted: none reads a count another is about to change."""
    workers = 8
    engine, user_id = db.engine, user.id
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def guess():
        try:
            with Session(engine) as session:
                throttle = SigninThrottle(session, ctx.settings, ctx.clock)
                barrier.wait(timeout=10)
                row = throttle.lock_row(user_id)
                throttle.record_failure(row)
                session.commit()
        except BaseException as error:  # reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=guess) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    db.session.expire_all()
    assert db.session.get(User, user_id).failed_signin_count == workers


# Password checks under way (issue 10): counted before the hash, settled after it.

def test_a_check_under_way_counts_as_a_failure_for_the_next_attempt(throttle, user, clock):
    fail(throttle, user, 2)
    clock.advance(1)
    row = throttle.lock_row(user.id)
    assert throttle.decision(row) is AttemptDecision.ALLOWED
    throttle.begin_check(row)
    # Had it failed, this would be the third failure: the next attempt waits for its outcome.
    assert throttle.decision(throttle.lock_row(user.id)) is AttemptDecision.TOO_EARLY
    throttle.settle_check(user.id)
    assert throttle.decision(throttle.lock_row(user.id)) is AttemptDecision.ALLOWED
    assert user.failed_signin_count == 2 and user.signin_attempts_pending == 0


@pytest.mark.settings(SIGNIN_LOCK_THRESHOLD=3, SIGNIN_DELAY_AFTER=100)
def test_checks_under_way_never_outnumber_the_guesses_left_before_the_lock(throttle, user):
    decisions = []
    for _ in range(5):
        row = throttle.lock_row(user.id)
        decisions.append(throttle.decision(row))
        if decisions[-1] is AttemptDecision.ALLOWED:
            throttle.begin_check(row)
    assert decisions == [AttemptDecision.ALLOWED] * 3 + [AttemptDecision.LOCKED] * 2
    for _ in range(3):
        throttle.record_failure(throttle.settle_check(user.id))
    assert user.failed_signin_count == 3 and user.signin_lock_count == 1 and lock_emails() == 1
    assert throttle.decision(throttle.lock_row(user.id)) is AttemptDecision.LOCKED


def test_after_a_lock_ends_one_check_at_a_time(throttle, user, clock):
    fail(throttle, user, 10)
    clock.advance(ThrottlePolicy.from_settings(throttle.settings).lock_duration.total_seconds())
    throttle.begin_check(throttle.lock_row(user.id))
    assert throttle.decision(throttle.lock_row(user.id)) is AttemptDecision.LOCKED


def test_a_check_never_settled_stops_counting(throttle, user, clock):
    fail(throttle, user, 2)
    throttle.begin_check(throttle.lock_row(user.id))
    clock.advance(PENDING_ATTEMPT_TTL.total_seconds())
    assert throttle.decision(throttle.lock_row(user.id)) is AttemptDecision.ALLOWED
    assert throttle.settle_check(user.id).signin_attempts_pending == 0
