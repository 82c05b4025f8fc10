"""The account home's jobs: change the password, list and end sessions, recent activity.

No Flask here (design.md, Where code goes): views pass the ids, the request's address and
user agent, and commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.errors import (
    IncorrectCurrentPassword,
    TooManyPasswordAttempts,
    WeakPassword,
)
from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.accounts.throttle import AttemptDecision, SigninThrottle
from idp.audit import EventTag, SecurityEvent, recent_events, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.mail.services import MailService
from idp.oidc.revocation import end_all_access
from idp.recovery.services import queue_password_changed_mail, revoke_password_resets
from idp.security.passwords import PasswordHasher
from idp.security.secrets import KeyedHasher
from idp.signin.models import UserSession
from idp.signin.sessions import SessionService


class AccountHomeService:
    """What a signed-in person can do about their own account's security."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        clock: Clock,
        hasher: KeyedHasher,
        passwords: PasswordHasher,
        mail: MailService,
        *,
        throttle: SigninThrottle | None = None,
        commit: Callable[[], None] | None = None,
    ):
        """throttle, when given, counts a wrong current password against the account like a
        failed sign-in, and refuses to check one while the account waits or is locked
        (RATE-01: every way of guessing a password feeds one counter). commit, the caller's
        (views pass db.session.commit), ends the transaction before the argon2id work, so
        no lock is held through it (issue 10); without it a change is one transaction."""
        self.commit = commit or session.flush
        self.session = session
        self.settings = settings
        self.clock = clock
        self.passwords = passwords
        self.mail = mail
        self.accounts = AccountService(session, settings, clock, passwords)
        self.sessions = SessionService(session, settings, clock, hasher)
        self.throttle = throttle

    def change_password(
        self,
        user_id: int,
        *,
        keep_session_id: int,
        plain_current: str,
        plain_new: str,
        locale: str | None,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> User:
        """Replace the password after checking the current one (ASVS 6.2.3).

        Raises TooManyPasswordAttempts (nothing checked), IncorrectCurrentPassword (counted
        as a failure: the caller commits it) or WeakPassword. On success every other session ends, this one stays (ASVS 7.4.3:
        the person chooses to stay signed in here), outstanding reset links stop working,
        and a notification goes to the address (ASVS 6.3.7).
        """
        user = self.throttle.lock_row(user_id) if self.throttle is not None else self.accounts.get(user_id)
        if user is None:
            raise IncorrectCurrentPassword
        if self.throttle is not None and self.throttle.decision(user) is not AttemptDecision.ALLOWED:
            raise TooManyPasswordAttempts
        # Counted as a check under way, then hashed with no transaction open (as at sign-in,
        # idp.accounts.throttle), then settled with the row locked again.
        password_hash, person = user.password_hash, (user.email, user.given_name, user.family_name)
        if self.throttle is not None:
            self.throttle.begin_check(user)
        self.commit()
        is_valid = self.passwords.verify(password_hash, plain_current)
        weak, new_hash = None, None
        if is_valid:
            try:
                self.accounts.check_new_password(
                    plain_new, email=person[0], given_name=person[1], family_name=person[2]
                )
                new_hash = self.passwords.hash(plain_new)
            except WeakPassword as error:
                weak = error
        user = self.throttle.settle_check(user_id) if self.throttle is not None else self.accounts.get(user_id)
        if user is None:
            raise IncorrectCurrentPassword
        if not is_valid or user.password_hash != password_hash:
            record_event(
                self.session, self.clock, EventTag.PASSWORD_CHANGE_FAILURE, user_id=user.id,
                ip_address=ip_address, user_agent=user_agent,
            )
            if self.throttle is not None:
                self.throttle.record_failure(user, locale=locale, ip_address=ip_address, user_agent=user_agent)
            raise IncorrectCurrentPassword
        if weak is not None:
            self.commit()  # the settled check; callers do not commit a refused new password
            raise weak
        user.password_hash = new_hash
        user.updated_at = self.clock()
        # Every other session ends, and every grant, offline_access too (RFC 9700 §4.14).
        end_all_access(self.sessions, user.id, keep_session_id=keep_session_id)
        revoke_password_resets(self.session, self.clock, user.id)
        now = self.clock()
        record_event(
            self.session, self.clock, EventTag.PASSWORD_CHANGED, user_id=user.id,
            ip_address=ip_address, user_agent=user_agent,
        )
        queue_password_changed_mail(self.mail, self.settings, user, now, locale=locale, by_reset=False)
        self.session.flush()
        return user

    def live_sessions(self, user_id: int) -> list[UserSession]:
        """The person's sessions that still work, most recently used first."""
        now = self.clock()
        candidates = self.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.ended_at.is_(None),
                UserSession.expires_at > now,
                UserSession.last_seen_at > now - timedelta(seconds=self.settings.SESSION_IDLE_TIMEOUT),
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
        # is_alive() is the one definition of a live session; the query only narrows the rows.
        return [user_session for user_session in candidates if self.sessions.is_alive(user_session)]

    def end_other_sessions(
        self,
        user_id: int,
        keep_session_id: int,
        *,
        record: bool = True,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> int:
        """End every session of this person except keep_session_id ("sign out everywhere
        else", SES-06); their next request is unauthenticated, and the relying parties those
        sessions signed into are told (back-channel logout). Returns how many ended."""
        ended = self.sessions.end_all_for_user(user_id, except_session_id=keep_session_id)
        if record:
            record_event(
                self.session, self.clock, EventTag.SESSIONS_ENDED, user_id=user_id,
                ip_address=ip_address, user_agent=user_agent, count=ended,
            )
        self.session.flush()
        return ended

    def sign_out_everywhere(self, user_id: int, *, ip_address: str | None = None,
                            user_agent: str | None = None) -> int:
        """« Se déconnecter partout » (issue 14): every session of this person ends, this one
        included, with every grant (offline_access too), and each relying party any of them
        signed into gets a logout token. Returns how many sessions ended."""
        ended = end_all_access(self.sessions, user_id)
        record_event(self.session, self.clock, EventTag.SIGNED_OUT_EVERYWHERE, user_id=user_id,
                     ip_address=ip_address, user_agent=user_agent, count=ended)
        self.session.flush()
        return ended

    def recent_activity(self, user_id: int, limit: int = 20) -> list[SecurityEvent]:
        """The person's latest security events, newest first (idp.audit.recent_events)."""
        return recent_events(self.session, user_id, limit)
