"""Recovery codes (issue 4, seed 002): issued at set-up, single use, a new set replaces the
old one. Used at the second step ("Recover account") when the person lost their method;
the sign-in then makes them set up two-factor again (idp.signin.flow)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.accounts.throttle import SigninThrottle
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.mfa import recovery_codes
from idp.mfa.attempts import open_attempt
from idp.mfa.base import FactorContext
from idp.mfa.errors import AccountLocked, InvalidCode
from idp.mfa.models import RecoveryCode
from idp.security.secrets import KeyedHasher
from idp.signin.flow import FACTOR_AMR, RECOVERY_CODE

RECOVERY_CODE_PURPOSE = "mfa-recovery-code"


class RecoveryCodeService:
    def __init__(
        self, session: Session, settings: Settings, clock: Clock, hasher: KeyedHasher, throttle: SigninThrottle,
        mail: Any = None,
    ):
        """mail, when given, tells the person each time one of their codes is used (AUD-03)."""
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        self.throttle = throttle
        self.mail = mail

    def generate(self, user_id: int) -> list[str]:
        """A new set of codes, in display form; every earlier unused code stops working."""
        now = self.clock()
        self.session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        plain_codes = recovery_codes.new_codes(int(self.settings.MFA_RECOVERY_CODE_COUNT))
        for plain_code in plain_codes:
            self.session.add(RecoveryCode(
                user_id=user_id, code_hash=self.hasher.hash(RECOVERY_CODE_PURPOSE, plain_code), created_at=now,
            ))
        self.session.flush()
        return [recovery_codes.display(plain_code) for plain_code in plain_codes]

    def remaining(self, user_id: int) -> int:
        return self.session.scalar(
            select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        ) or 0

    def use(self, user_id: int, typed_code: str, context: FactorContext, *, notify: bool = True) -> None:
        """Spend one code. Raises InvalidCode (wrong or already used: one error),
        AttemptTooEarly or AccountLocked. The account row is locked and the code spent by a
        conditional UPDATE, so one code signs in once however many requests race.

        notify=False leaves the email to the caller ("Recover account" sends one that also
        lists the methods removed, idp.mfa.account_recovery)."""
        user = open_attempt(self.throttle, user_id, InvalidCode)
        code = recovery_codes.canonical(typed_code)
        spent = None
        if recovery_codes.is_well_formed(code):
            code_hash = self.hasher.hash(RECOVERY_CODE_PURPOSE, code)
            spent = self.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == code_hash, RecoveryCode.used_at.is_(None))
                .values(used_at=self.clock())
                .execution_options(synchronize_session=False)
            ).rowcount
        if spent != 1:
            record_event(
                self.session, self.clock, EventTag.RECOVERY_CODE_FAILURE, user_id=user.id,
                ip_address=context.ip_address, user_agent=context.user_agent,
            )
            if self.throttle.record_failure(
                user, locale=context.locale, ip_address=context.ip_address, user_agent=context.user_agent
            ):
                raise AccountLocked
            raise InvalidCode
        self.throttle.clear_failures(user)
        remaining = self.remaining(user.id)
        record_event(
            self.session, self.clock, EventTag.RECOVERY_CODE_USED, user_id=user.id,
            ip_address=context.ip_address, user_agent=context.user_agent, remaining=remaining,
        )
        if notify and self.mail is not None and user.email:
            self.mail.enqueue(
                to=user.email, template="recovery-code-used", locale=context.locale or user.locale, user_id=user.id,
                context={"given_name": user.given_name, "used_at": self.clock().isoformat(), "remaining": remaining},
            )
        self.session.flush()

    def is_enrolled(self, user: User) -> bool:
        return user.mfa_enrolled_at is not None and self.remaining(user.id) > 0


class RecoveryCodeFactor:
    """"Recover account" at the second step. Strength 0: a way back in, never offered as a
    method to sign in with; a sign-in that used it sets up two-factor again."""

    name: ClassVar[str] = RECOVERY_CODE
    amr: ClassVar[tuple[str, ...]] = FACTOR_AMR[RECOVERY_CODE]
    strength: ClassVar[int] = 0
    endpoint: ClassVar[str] = "mfa.recover"

    def __init__(self, service: RecoveryCodeService):
        self.service = service

    def is_enrolled(self, user: User) -> bool:
        return self.service.is_enrolled(user)

    def begin(self, user: User, context: FactorContext) -> Any:
        return None

    def verify(self, user: User, response: str, context: FactorContext) -> None:
        self.service.use(user.id, response, context)
