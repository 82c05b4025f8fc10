"""Setting up two-factor (issue 4): the methods a person may choose, and finishing the
set-up with recovery codes and a notification email."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.mail.services import MailService
from idp.mfa.base import FactorContext
from idp.mfa.recovery import RecoveryCodeService
from idp.mfa.security_key import KeySummary
from idp.signin.flow import EMAIL_CODE, TOTP, WEBAUTHN

# What the set-up page offers, strongest first.
SETUP_METHODS = (WEBAUTHN, TOTP, EMAIL_CODE)
ACCOUNT_PATH = "/account"


@dataclass(frozen=True)
class Status:
    """Two-factor as the account home shows it."""

    is_set_up: bool
    methods: tuple[str, ...]
    default_method: str | None
    recovery_codes_left: int
    is_low_on_codes: bool
    # Each security key or passkey, so that several can be told apart (issue 9).
    security_keys: tuple[KeySummary, ...] = ()


class EnrolmentService:
    def __init__(
        self, session: Session, settings: Settings, clock: Clock, recovery: RecoveryCodeService, mail: MailService
    ):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.recovery = recovery
        self.mail = mail

    def complete(self, user: User, method: str, context: FactorContext) -> list[str]:
        """The person set up `method` (its proof already checked by the caller): it becomes
        their default, they get a new set of recovery codes (returned, to show once; older
        codes stop working) and an email says so. Returns the codes."""
        now = self.clock()
        if method == EMAIL_CODE:
            user.email_code_enrolled_at = user.email_code_enrolled_at or now
        user.mfa_default_factor = method
        is_first = user.mfa_enrolled_at is None
        user.mfa_enrolled_at = user.mfa_enrolled_at or now
        plain_codes = self.recovery.generate(user.id)
        record_event(
            self.session, self.clock, EventTag.MFA_ENROLLED, user_id=user.id,
            ip_address=context.ip_address, user_agent=context.user_agent, method=method, first=is_first,
        )
        issuer = self.settings.OIDC_ISSUER
        self.mail.enqueue(
            to=user.email,
            template="mfa-set-up",
            locale=context.locale or user.locale,
            user_id=user.id,
            context={
                "given_name": user.given_name,
                "method": method,
                "set_up_at": now.isoformat(),
                "account_url": issuer + ACCOUNT_PATH,
            },
        )
        self.session.flush()
        return plain_codes

    def status(
        self, user: User, enrolled_methods: tuple[str, ...], security_keys: tuple[KeySummary, ...] = ()
    ) -> Status:
        left = self.recovery.remaining(user.id) if user.mfa_enrolled_at is not None else 0
        return Status(
            is_set_up=user.mfa_enrolled_at is not None,
            methods=enrolled_methods,
            default_method=user.mfa_default_factor,
            recovery_codes_left=left,
            is_low_on_codes=user.mfa_enrolled_at is not None and left <= int(self.settings.MFA_RECOVERY_CODES_LOW),
            security_keys=security_keys,
        )
