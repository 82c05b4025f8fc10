"""Second factors: the emailed sign-in code, and choosing among a person's factors.

No Flask here (design.md, Where code goes): collaborators (mail, throttle) are passed in,
views commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.accounts.throttle import CANT_SIGN_IN_PATH, SigninThrottle
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.mfa.attempts import open_attempt
from idp.mfa.base import Factor, FactorContext
from idp.mfa.errors import (
    AccountLocked,
    CodeAttemptsExhausted,
    CodeExpired,
    CodeNotDelivered,
    CodeNotSent,
    DailyCodeLimitReached,
    FactorNotAvailable,
    InvalidCode,
    NoLiveCode,
    ResendTooSoon,
)
from idp.mfa.models import EmailCode
from idp.security.secrets import KeyedHasher, new_numeric_code
from idp.signin.assurance import AMR_PASSWORD, acr_for, satisfies

EMAIL_CODE_PURPOSE = "mfa-email-code"
EMAIL_CODE_TEMPLATE = "signin-code"
CODE_DIGITS = 6


def normalize_code(plain_code: str | None) -> str:
    """What the person typed, without the spaces and dashes people add when copying."""
    return "".join(character for character in (plain_code or "") if character not in " -\u00a0\t")


class EmailCodeService:
    """6-digit codes sent by email for one sign-in: 3 minutes, 5 attempts, single use.

    NIST SP 800-63B §5.1.3.2 (a CSPRNG code, accepted once) and ASVS 6.6.x. One live code per
    account: sending a new one burns the others. Wrong codes also count against the account
    (idp.accounts.throttle), so opening new sign-ins does not reset the guessing budget.
    """

    def __init__(
        self,
        session: Session,
        settings: Settings,
        clock: Clock,
        hasher: KeyedHasher,
        mail: Any,
        throttle: SigninThrottle,
    ):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        self.mail = mail
        self.throttle = throttle

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=int(self.settings.MFA_EMAIL_CODE_TTL))

    def latest_for(self, transaction_id: int | None) -> EmailCode | None:
        """The newest code sent for this sign-in, live or not."""
        if transaction_id is None:
            return None
        return self.session.scalar(
            select(EmailCode)
            .where(EmailCode.signin_transaction_id == transaction_id)
            .order_by(EmailCode.created_at.desc(), EmailCode.id.desc())
            .limit(1)
        )

    def has_sent_for(self, transaction_id: int | None) -> bool:
        return self.latest_for(transaction_id) is not None

    def send_first(self, user: User, context: FactorContext) -> EmailCode | None:
        """Send a code when a sign-in first reaches this step; None when one was already sent
        for it, so reloading the page sends nothing (the person asks with "Request a new code").

        Raises DailyCodeLimitReached or CodeNotSent.
        """
        if self.has_sent_for(context.transaction_id):
            return None
        return self._send(user, context)

    def resend(self, user: User, context: FactorContext) -> EmailCode:
        """"Request a new code": a new code that replaces the previous one.

        Raises ResendTooSoon within MFA_EMAIL_CODE_RESEND_COOLDOWN of the last code sent to
        this account, DailyCodeLimitReached, or CodeNotSent.
        """
        latest = self.session.scalar(
            select(EmailCode.created_at)
            .where(EmailCode.user_id == user.id)
            .order_by(EmailCode.created_at.desc())
            .limit(1)
        )
        if latest is not None:
            cooldown = timedelta(seconds=int(self.settings.MFA_EMAIL_CODE_RESEND_COOLDOWN))
            wait = latest + cooldown - self.clock()
            if wait > timedelta(0):
                raise ResendTooSoon(max(1, int(wait.total_seconds() + 0.999)))
        return self._send(user, context)

    def _send(self, user: User, context: FactorContext) -> EmailCode:
        now = self.clock()
        sent_today = self.session.scalar(
            select(func.count(EmailCode.id)).where(
                EmailCode.user_id == user.id, EmailCode.created_at > now - timedelta(days=1)
            )
        )
        if sent_today >= int(self.settings.MFA_EMAIL_CODE_DAILY_CAP):
            raise DailyCodeLimitReached
        # One live code per account (MFA-01): a new one replaces every earlier one.
        self.session.execute(
            update(EmailCode)
            .where(EmailCode.user_id == user.id, EmailCode.burned_at.is_(None))
            .values(burned_at=now)
            .execution_options(synchronize_session=False)
        )
        plain_code = new_numeric_code(CODE_DIGITS)
        code = EmailCode(
            user_id=user.id,
            signin_transaction_id=context.transaction_id,
            code_hash=self.hasher.hash(EMAIL_CODE_PURPOSE, plain_code),
            created_at=now,
            expires_at=now + self.ttl,
            attempts=0,
        )
        self.session.add(code)
        self.session.flush()
        minutes = max(1, int(self.ttl.total_seconds() // 60))
        queued = self.mail.enqueue(
            to=user.email,
            template=EMAIL_CODE_TEMPLATE,
            locale=context.locale,
            context={
                "given_name": user.given_name,
                "code": plain_code,
                "minutes": minutes,
                "cant_sign_in_url": self.settings.OIDC_ISSUER + CANT_SIGN_IN_PATH,
            },
            user_id=user.id,
        )
        if queued is None:
            # The mail caps refused it (idp.mail.services): a code nobody can receive is no code.
            code.burned_at = now
            self.session.flush()
            raise CodeNotSent
        self._event(EventTag.EMAIL_CODE_SENT, user, context)
        return code

    def verify(self, user_id: int, plain_code: str, context: FactorContext) -> None:
        """Accept the code of this sign-in once, or raise.

        Raises AccountLocked or AttemptTooEarly (the account throttle, checked first and
        without looking at the code), NoLiveCode, CodeExpired (CodeNotDelivered when its email
        could not be sent before it expired), CodeAttemptsExhausted, or
        InvalidCode (wrong or already used: one error, ENUM-03). The account row is locked
        first, so concurrent guesses are checked one at a time, and the code is burned with
        a conditional UPDATE, so it is spent exactly once (R2).
        """
        user = open_attempt(self.throttle, user_id, NoLiveCode)
        now = self.clock()
        code = self.latest_for(context.transaction_id)
        if code is not None:
            self.session.refresh(code)
        if code is None or code.user_id != user.id or code.burned_at is not None:
            raise NoLiveCode
        if code.expires_at <= now:
            code.burned_at = now
            self.session.flush()
            if self.mail.was_dropped(user.id, EMAIL_CODE_TEMPLATE, code.created_at):
                raise CodeNotDelivered
            raise CodeExpired
        max_attempts = int(self.settings.MFA_EMAIL_CODE_MAX_ATTEMPTS)
        code.attempts = (code.attempts or 0) + 1
        if not self.hasher.matches(EMAIL_CODE_PURPOSE, normalize_code(plain_code), code.code_hash):
            is_exhausted = code.attempts >= max_attempts
            if is_exhausted:
                code.burned_at = now
            self.session.flush()
            self._event(EventTag.EMAIL_CODE_FAILURE, user, context, attempts=code.attempts)
            is_lock = self.throttle.record_failure(
                user, locale=context.locale, ip_address=context.ip_address, user_agent=context.user_agent
            )
            if is_lock:
                raise AccountLocked
            raise CodeAttemptsExhausted if is_exhausted else InvalidCode
        self.session.flush()
        spent = self.session.execute(
            update(EmailCode)
            .where(EmailCode.id == code.id, EmailCode.burned_at.is_(None))
            .values(used_at=now, burned_at=now)
            .execution_options(synchronize_session=False)
        )
        self.session.expire(code, ["used_at", "burned_at"])
        if spent.rowcount != 1:
            raise InvalidCode
        self.throttle.clear_failures(user)

    def _event(self, tag: EventTag, user: User, context: FactorContext, **details: Any) -> None:
        record_event(
            self.session, self.clock, tag, user_id=user.id,
            ip_address=context.ip_address, user_agent=context.user_agent, **details,
        )


class MfaService:
    """The factors a person can use: their default first, then strongest first."""

    def __init__(self, session: Session, settings: Settings, clock: Clock, factors: Sequence[Factor]):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.factors = list(factors)

    def enrolled(self, user: User, required_acr: str | None = None) -> list[Factor]:
        """The methods this person may sign in with (not the recovery code, strength 0),
        their default first, then strongest first; with required_acr, only those that reach
        that level with a password (a step-up)."""
        usable = [
            factor for factor in self.factors
            if factor.strength > 0 and factor.is_enrolled(user)
            and satisfies(acr_for([AMR_PASSWORD, *factor.amr]), required_acr)
        ]
        return sorted(usable, key=lambda f: (f.name != user.mfa_default_factor, -f.strength))

    def preferred(self, user: User, required_acr: str | None = None) -> Factor:
        """The factor to ask for first. Raises FactorNotAvailable when there is none (none
        that reaches required_acr)."""
        enrolled = self.enrolled(user, required_acr)
        if not enrolled:
            raise FactorNotAvailable
        return enrolled[0]

    def can_recover(self, user: User) -> bool:
        """Has unused recovery codes ("Recover account" is offered)."""
        return any(factor.strength == 0 and factor.is_enrolled(user) for factor in self.factors)

    def get(self, name: str, user: User) -> Factor:
        """The named factor if this person may use it. Raises FactorNotAvailable."""
        for factor in self.factors:
            if factor.name == name and factor.is_enrolled(user):
                return factor
        raise FactorNotAvailable
