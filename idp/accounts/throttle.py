"""Per-account failure counting: progressive delay, then a temporary lock with an email.

Failed sign-in attempts (wrong passwords, wrong emailed codes) are counted on the account's
row in the database, so every worker and host sees the same count (security checklist §0.6;
NIST SP 800-63B §5.2.2, ASVS 6.3.x). After SIGNIN_DELAY_AFTER failures each further attempt
must wait 2^(n - SIGNIN_DELAY_AFTER) seconds after the last failure; at
SIGNIN_LOCK_THRESHOLD failures the account is locked for SIGNIN_LOCK_DURATION and its owner
gets an email. A complete sign-in clears the count. After a lock ends the count stays at the
threshold, so every further failure locks again: an attacker gets one guess per lock.
After SIGNIN_TEMPORARY_LOCKS such locks in a row the next one has no end: it waits for the
unlock link emailed with it or for an operator (idp/accounts/unlock.py; issue 9), so
guessing stops for good instead of going on at about 96 guesses a day.

Attempts that come too early are refused without being checked. The sign-in page says
nothing about it (the same "incorrect email or password" as for an unknown address): only
the owner's mailbox hears of a lock, so the page never tells whether an address has an
account (ENUM-01, ENUM-03).

Counting is race-safe: lock_row() takes the row's write lock before anything is decided,
so concurrent guesses at one account are decided one after another and each one counts
(keycloak/keycloak#31726, MFA-04). A password's argon2id check is too slow to run under
that lock (on SQLite it is the whole database's write lock: simultaneous sign-ins answered
503, issue 10), so it is counted first and settled after (begin_check, settle_check): in a
short transaction the attempt is decided and added to the row's checks under way, which
decision() counts as failures (so concurrent guesses never get past the delay or the lock:
each is counted before it is checked); the hash runs with no transaction open; a second
short transaction then turns it into a failure (record_failure, as before) or drops it.
Codes and keys are cheap keyed hashes and signatures, checked under the lock. No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.accounts.unlock import clear_lock
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings

# The "Can't sign in?" page of idp/recovery, which the lock email points to.
CANT_SIGN_IN_PATH = "/signin/help"
LOCK_EMAIL_TEMPLATE = "account-locked"
UNLOCK_EMAIL_TEMPLATE = "account-unlock"
# A password check counted by begin_check() and never settled (its request died between
# the two transactions) stops counting this long after the latest check began: it answered
# nothing but an error, so it taught a guesser nothing. A check takes well under a second.
PENDING_ATTEMPT_TTL = timedelta(seconds=60)


class AttemptDecision(StrEnum):
    ALLOWED = "allowed"
    TOO_EARLY = "too_early"  # within the progressive delay after the last failure
    LOCKED = "locked"  # within a lock, or until unlocked; the owner was emailed when it began


@dataclass(frozen=True)
class ThrottlePolicy:
    lock_threshold: int
    lock_duration: timedelta
    delay_after: int
    max_delay: timedelta
    temporary_locks: int = 3  # then the next lock waits for an unlock

    @classmethod
    def from_settings(cls, settings: Any) -> ThrottlePolicy:
        return cls(
            lock_threshold=int(settings["SIGNIN_LOCK_THRESHOLD"]),
            lock_duration=timedelta(seconds=int(settings["SIGNIN_LOCK_DURATION"])),
            delay_after=int(settings["SIGNIN_DELAY_AFTER"]),
            max_delay=timedelta(seconds=int(settings["SIGNIN_MAX_DELAY"])),
            temporary_locks=int(settings["SIGNIN_TEMPORARY_LOCKS"]),
        )

    def delay_for(self, failures: int) -> timedelta:
        """How long after the last failure the next attempt must wait, below the lock."""
        if failures < self.delay_after:
            return timedelta(0)
        exponent = min(failures - self.delay_after, 30)  # 2^30 s is past any sane cap
        return min(timedelta(seconds=2**exponent), self.max_delay)

    def is_lock(self, failures: int) -> bool:
        return failures >= self.lock_threshold

    def needs_unlock(self, locks: int) -> bool:
        """Whether the locks-th lock in a row is the one that waits for an unlock."""
        return locks > self.temporary_locks


class SigninThrottle:
    """The failure counter of each account.

    mail, when given (a MailService), receives the account-locked email; without it a lock
    is still recorded as an event but nobody is told, so every web caller passes one.
    unlock, when given (an idp.accounts.unlock.UnlockService), makes the unlock link that
    the email of a lock waiting for an unlock carries; without it only an operator (or a
    password reset) ends such a lock.
    """

    def __init__(
        self, session: Session, settings: Settings, clock: Clock, *, mail: Any | None = None, unlock: Any | None = None
    ):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.mail = mail
        self.unlock = unlock
        self.policy = ThrottlePolicy.from_settings(settings)

    def lock_row(self, user_id: int) -> User | None:
        """Take the account row's write lock for the rest of the transaction and return the
        row as committed now.

        A no-op UPDATE is the portable lock: PostgreSQL holds a row lock until commit, and
        SQLite takes its database write lock, so a concurrent attempt at the same account
        waits here and then reads the count this one leaves.
        """
        self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(failed_signin_count=User.failed_signin_count)
            .execution_options(synchronize_session=False)
        )
        return self.session.scalar(
            select(User).where(User.id == user_id).execution_options(populate_existing=True)
        )

    def decision(self, user: User) -> AttemptDecision:
        """May an attempt at this account be checked now? Read after lock_row().

        Password checks under way count as failures made just now: if they all failed, the
        policy's delay or lock would already refuse this attempt, so it is refused.
        """
        now = self.clock()
        if user.unlock_required_at is not None:
            return AttemptDecision.LOCKED
        if user.locked_until is not None and user.locked_until > now:
            if self.policy.is_lock(user.failed_signin_count):
                return AttemptDecision.LOCKED
            return AttemptDecision.TOO_EARLY
        pending = self.pending_checks(user)
        if pending:
            failures = (user.failed_signin_count or 0) + pending
            if self.policy.is_lock(failures):
                return AttemptDecision.LOCKED
            if self.policy.delay_for(failures):
                return AttemptDecision.TOO_EARLY
        return AttemptDecision.ALLOWED

    def pending_checks(self, user: User) -> int:
        """Password checks begun and not settled, unless the latest began PENDING_ATTEMPT_TTL ago."""
        started_at = user.signin_attempt_started_at
        if not user.signin_attempts_pending or started_at is None or started_at + PENDING_ATTEMPT_TTL <= self.clock():
            return 0
        return user.signin_attempts_pending

    def begin_check(self, user: User) -> None:
        """Count a password check about to run on this row, locked and ALLOWED by
        decision(); the caller commits before hashing and then calls settle_check()."""
        user.signin_attempts_pending = self.pending_checks(user) + 1
        user.signin_attempt_started_at = self.clock()
        self.session.flush()

    def settle_check(self, user_id: int) -> User | None:
        """Lock the row again and drop one check under way; returns the row (None if the
        account is gone). The caller then records the outcome: record_failure() for a wrong
        password, nothing for a right one."""
        user = self.lock_row(user_id)
        if user is None:
            return None
        pending = max(self.pending_checks(user) - 1, 0)
        user.signin_attempts_pending = pending
        if not pending:
            user.signin_attempt_started_at = None
        self.session.flush()
        return user

    def record_failure(
        self,
        user: User,
        *,
        locale: str | None = None,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> bool:
        """Count one failed attempt; returns True when it locked the account.

        A new lock is recorded as an event and, with a mail service, told to the owner in
        their language (user.locale, else the page's), once per lock. The lock that comes
        after SIGNIN_TEMPORARY_LOCKS temporary ones waits for an unlock instead, and its
        email carries the unlock link (_require_unlock).
        """
        now = self.clock()
        failures = (user.failed_signin_count or 0) + 1
        user.failed_signin_count = failures
        user.last_failed_signin_at = now
        is_lock = self.policy.is_lock(failures)
        user.locked_until = now + (self.policy.lock_duration if is_lock else self.policy.delay_for(failures))
        if not is_lock and user.locked_until == now:
            user.locked_until = None
        if is_lock:
            user.signin_lock_count = (user.signin_lock_count or 0) + 1
        self.session.flush()
        if is_lock and self.policy.needs_unlock(user.signin_lock_count):
            self._require_unlock(user, locale=locale, ip_address=ip_address, user_agent=user_agent)
        elif is_lock:
            minutes = max(1, int(self.policy.lock_duration.total_seconds() // 60))
            record_event(
                self.session, self.clock, EventTag.ACCOUNT_LOCKED, user_id=user.id,
                ip_address=ip_address, user_agent=user_agent, failures=failures, minutes=minutes,
                locks=user.signin_lock_count,
            )
            if self.mail is not None:
                self._tell_owner(
                    user, LOCK_EMAIL_TEMPLATE, locale, minutes=minutes, locked_until=user.locked_until.isoformat()
                )
        return is_lock

    def _tell_owner(self, user: User, template: str, locale: str | None, **context: Any) -> None:
        """Queue a lock email in the owner's language (user.locale, else the page's)."""
        self.mail.enqueue(
            to=user.email,
            template=template,
            locale=user.locale or locale,
            context={
                "given_name": user.given_name,
                "cant_sign_in_url": self.settings.OIDC_ISSUER + CANT_SIGN_IN_PATH,
                **context,
            },
            user_id=user.id,
        )

    def _require_unlock(
        self, user: User, *, locale: str | None, ip_address: str | None, user_agent: str | None
    ) -> None:
        """The lock with no end: recorded, and emailed with a new unlock link when there is
        a mail service and a way to make links (an operator can always unlock)."""
        user.unlock_required_at = self.clock()
        user.locked_until = None
        self.session.flush()
        record_event(
            self.session, self.clock, EventTag.ACCOUNT_UNLOCK_REQUIRED, user_id=user.id,
            ip_address=ip_address, user_agent=user_agent, failures=user.failed_signin_count,
            locks=user.signin_lock_count,
        )
        if self.mail is None or self.unlock is None or not user.email:
            return
        plain_token = self.unlock.issue_link(user)
        self._tell_owner(
            user, UNLOCK_EMAIL_TEMPLATE, locale,
            unlock_url=self.unlock.link_url(plain_token),
            ttl_days=max(1, int(self.unlock.link_ttl.total_seconds() // 86400)),
        )

    def clear_failures(self, user: User) -> None:
        """A complete sign-in or a password reset: the count starts again from zero, and a
        lock waiting for an unlock ends (a reset link proves the mailbox as an unlock link
        does)."""
        if (
            user.failed_signin_count
            or user.locked_until is not None
            or user.signin_lock_count
            or user.unlock_required_at is not None
        ):
            clear_lock(user)
            self.session.flush()

    def failure_recorder(self, **origin: Any):
        """record_failure as a one-argument callable, for services that take a hook (the
        account home counts wrong current passwords with it)."""
        return lambda user: self.record_failure(user, **origin)
