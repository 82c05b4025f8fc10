"""The authenticator app (TOTP) as a Factor, and its enrolment (issue 4).

An app is something the person has (a device holding the shared secret): amr "otp", and
with the password a two-factor session (idp.signin.assurance). Wrong codes count against
the account like wrong passwords (idp.accounts.throttle); the account row is locked while a
code is checked, so two concurrent requests cannot both spend one time step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.accounts.throttle import SigninThrottle
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.mfa import totp
from idp.mfa.attempts import open_attempt
from idp.mfa.base import FactorContext
from idp.mfa.errors import AccountLocked, FactorNotAvailable, InvalidCode
from idp.mfa.models import TotpAuthenticator
from idp.security.encryption import SecretBox
from idp.signin.flow import FACTOR_AMR, TOTP


@dataclass(frozen=True)
class PendingApp:
    """What the set-up page shows: the secret as text and as a QR code."""

    grouped_secret: str
    uri: str


class TotpService:
    def __init__(
        self, session: Session, settings: Settings, clock: Clock, secret_box: SecretBox, throttle: SigninThrottle
    ):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.secret_box = secret_box
        self.throttle = throttle

    def find(self, user_id: int) -> TotpAuthenticator | None:
        return self.session.scalar(select(TotpAuthenticator).where(TotpAuthenticator.user_id == user_id))

    def was_just_confirmed(self, user_id: int) -> bool:
        """Whether the app was confirmed within the drift window: it may still show the code
        that confirmed it, which works once, so the sign-in that follows says to wait."""
        authenticator = self.find(user_id)
        return (authenticator is not None and authenticator.confirmed_at is not None
                and self.clock() - authenticator.confirmed_at < totp.JUST_USED)

    def is_confirmed(self, user_id: int) -> bool:
        authenticator = self.find(user_id)
        return authenticator is not None and authenticator.confirmed_at is not None

    def begin_enrolment(self, user: User, *, replaces_lost_app: bool = False) -> PendingApp:
        """The unconfirmed secret to show, made on first call and kept across reloads, so a
        person who scanned the code and reloads the page still has a working app.

        A confirmed app is replaced only when the person lost it (they just used a recovery
        code: replaces_lost_app); otherwise raises FactorNotAvailable.
        """
        authenticator = self.find(user.id)
        if authenticator is not None and authenticator.confirmed_at is not None:
            if not replaces_lost_app:
                raise FactorNotAvailable
            self.session.delete(authenticator)
            self.session.flush()
            authenticator = None
        if authenticator is None:
            authenticator = TotpAuthenticator(
                user_id=user.id, secret_encrypted=self.secret_box.encrypt(totp.new_secret().encode()),
                created_at=self.clock(),
            )
            self.session.add(authenticator)
            self.session.flush()
        secret = self._secret_of(authenticator)
        issuer_name = str(self.settings.MFA_TOTP_ISSUER_NAME)
        return PendingApp(totp.grouped(secret), totp.provisioning_uri(secret, user.email, issuer_name))

    def confirm_enrolment(self, user: User, plain_code: str, context: FactorContext) -> None:
        """The person typed a current code from the app: it is theirs now. Raises
        InvalidCode, AttemptTooEarly or AccountLocked (throttled like a sign-in)."""
        self._check(user.id, plain_code, context, require_confirmed=False)
        authenticator = self.find(user.id)
        assert authenticator is not None
        authenticator.confirmed_at = self.clock()
        self.session.flush()

    def verify(self, user_id: int, plain_code: str, context: FactorContext) -> None:
        """Accept a current code from the confirmed app, once. Raises InvalidCode (wrong,
        reused or out of the drift window: one error), AttemptTooEarly or AccountLocked."""
        self._check(user_id, plain_code, context, require_confirmed=True)

    def _check(self, user_id: int, plain_code: str, context: FactorContext, *, require_confirmed: bool) -> None:
        user = open_attempt(self.throttle, user_id, InvalidCode)
        authenticator = self.find(user_id)
        if authenticator is not None:
            self.session.refresh(authenticator)  # the last used step as committed, under the lock
        is_usable = authenticator is not None and (authenticator.confirmed_at is not None or not require_confirmed)
        now = self.clock()
        try:
            if not is_usable:
                raise totp.TotpRejected
            step = totp.accepted_step(self._secret_of(authenticator), plain_code, now, authenticator.last_used_step)
        except totp.TotpRejected:
            record_event(
                self.session, self.clock, EventTag.TOTP_FAILURE, user_id=user.id,
                ip_address=context.ip_address, user_agent=context.user_agent,
            )
            if self.throttle.record_failure(
                user, locale=context.locale, ip_address=context.ip_address, user_agent=context.user_agent
            ):
                raise AccountLocked from None
            raise InvalidCode from None
        authenticator.last_used_step = step
        authenticator.last_used_at = now
        self.throttle.clear_failures(user)
        self.session.flush()

    def _secret_of(self, authenticator: TotpAuthenticator) -> str:
        return self.secret_box.decrypt(authenticator.secret_encrypted).decode()


class TotpFactor:
    name: ClassVar[str] = TOTP
    amr: ClassVar[tuple[str, ...]] = FACTOR_AMR[TOTP]
    strength: ClassVar[int] = 2  # above the emailed code, below a security key
    endpoint: ClassVar[str] = "mfa.authenticator_app"

    def __init__(self, service: TotpService):
        self.service = service

    def is_enrolled(self, user: User) -> bool:
        return self.service.is_confirmed(user.id)

    def begin(self, user: User, context: FactorContext) -> Any:
        return None  # the app makes its codes itself

    def verify(self, user: User, response: str, context: FactorContext) -> None:
        self.service.verify(user.id, response, context)
