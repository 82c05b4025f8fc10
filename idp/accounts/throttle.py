"""Per-account failure counting: progressive delay, then a temporary lock with an email.

Failed sign-in attempts (wrong passwords, wrong emailed codes) are counted on the account's
row in the database, so every worker and host sees the same count (security checklist §0.6;
NIST SP 800-63B §5.2.2, ASVS 6.3.x). After SIGNIN_DELAY_AFTER failures each further attempt
must wait 2^(n - SIGNIN_DELAY_AFTER) seconds after the last failure; at
SIGNIN_LOCK_THRESHOLD failures the account is locked for SIGNIN_LOCK_DURATION and its owner
gets an email. A complete sign-in clears the count. After a lock ends the count stays at the
threshold, so every further failure locks again: an attacker gets one guess per lock.

Attempts that come too early are refused without being checked. The sign-in page says
nothing about it (the same "incorrect email or password" as for an unknown address): only
the owner's mailbox hears of a lock, so the page never tells whether an address has an
account (ENUM-01, ENUM-03).

Counting is race-safe: lock_row() takes the row's write lock before anything is decided,
so concurrent guesses at one account are checked one after another and each one counts
(keycloak/keycloak#31726, MFA-04). No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings

# The "Can't sign in?" page of idp/recovery, which the lock email points to.
CANT_SIGN_IN_PATH = "/signin/help"
LOCK_EMAIL_TEMPLATE = "account-locked"


class AttemptDecision(StrEnum):
    ALLOWED = "allowed"
    TOO_EARLY = "too_early"  # within the progressive delay after the last failure
    LOCKED = "locked"  # within a lock; the owner was emailed when it began


@dataclass(frozen=True)
class ThrottlePolicy:
    lock_threshold: int
    lock_duration: timedelta
    delay_after: int
    max_delay: timedelta

    @classmethod
    def from_settings(cls, settings: Any) -> ThrottlePolicy:
        return cls(
            lock_threshold=int(settings["SIGNIN_LOCK_THRESHOLD"]),
            lock_duration=timedelta(seconds=int(settings["SIGNIN_LOCK_DURATION"])),
            delay_after=int(settings["SIGNIN_DELAY_AFTER"]),
            max_delay=timedelta(seconds=int(settings["SIGNIN_MAX_DELAY"])),
        )

    def delay_for(self, failures: int) -> timedelta:
        """How long after the last failure the next attempt must wait, below the lock."""
        if failures < self.delay_after:
            return timedelta(0)
        exponent = min(failures - self.delay_after, 30)  # 2^30 s is past any sane cap
        return min(timedelta(seconds=2**exponent), self.max_delay)

    def is_lock(self, failures: int) -> bool:
        return failures >= self.lock_threshold


class SigninThrottle:
    """The failure counter of each account.

    mail, when given (a MailService), receives the account-locked email; without it a lock
    is still recorded as an event but nobody is told, so every web caller passes one.
    """

    def __init__(self, session: Session, settings: Settings, clock: Clock, *, mail: Any | None = None):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.mail = mail
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
        """May an attempt at this account be checked now? Read after lock_row()."""
        now = self.clock()
        if user.locked_until is None or user.locked_until <= now:
            return AttemptDecision.ALLOWED
        if self.policy.is_lock(user.failed_signin_count):
            return AttemptDecision.LOCKED
        return AttemptDecision.TOO_EARLY

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
        their language (user.locale, else the page's), once per lock.
        """
        now = self.clock()
        failures = (user.failed_signin_count or 0) + 1
        user.failed_signin_count = failures
        user.last_failed_signin_at = now
        is_lock = self.policy.is_lock(failures)
        user.locked_until = now + (self.policy.lock_duration if is_lock else self.policy.delay_for(failures))
        if not is_lock and user.locked_until == now:
            user.locked_until = None
        self.session.flush()
        if is_lock:
            minutes = max(1, int(self.policy.lock_duration.total_seconds() // 60))
            record_event(
                self.session, self.clock, EventTag.ACCOUNT_LOCKED, user_id=user.id,
                ip_address=ip_address, user_agent=user_agent, failures=failures, minutes=minutes,
            )
            if self.mail is not None:
                self.mail.enqueue(
                    to=user.email,
                    template=LOCK_EMAIL_TEMPLATE,
                    locale=user.locale or locale,
                    context={
                        "given_name": user.given_name,
                        "minutes": minutes,
                        "locked_until": user.locked_until.isoformat(),
                        "cant_sign_in_url": self.settings.OIDC_ISSUER + CANT_SIGN_IN_PATH,
                    },
                    user_id=user.id,
                )
        return is_lock

    def clear_failures(self, user: User) -> None:
        """A complete sign-in or a password reset: the count starts again from zero."""
        if user.failed_signin_count or user.locked_until is not None:
            user.failed_signin_count = 0
            user.locked_until = None
            self.session.flush()

    def failure_recorder(self, **origin: Any):
        """record_failure as a one-argument callable, for services that take a hook (the
        account home counts wrong current passwords with it)."""
        return lambda user: self.record_failure(user, **origin)
