""""Recover account" at the second step (issue 9): a recovery code replaces the methods the
person lost.

Someone who signs in with a recovery code says they no longer have their second factor.
Whoever has the lost phone or key must not keep one, so at once, in the transaction that
spends the code:

- the authenticator app and every security key and passkey are removed: they are the lost
  devices (the flow does not ask which; a person who still had one would have used it);
- codes sent by email stop being a sign-in method too: a lost phone usually carries a
  signed-in mail app, so the emailed code would be the lost phone's second factor. The
  address itself stays the account's (notices, resets); the person may add emailed codes
  back from the manage page, which a fresh sign-in with the new method guards;
- every session of the person ends, and every grant, offline_access included, as after a
  password reset (idp.oidc.revocation): a session open on the lost phone ends, and so does
  a native app's refresh token on it;
- the recovery codes they have left keep working until the new set-up, which follows at
  once (idp.signin.flow) and replaces them (EnrolmentService.complete): a person who stops
  before the new set-up still gets in with one of them, and with nothing else.

The recover page lists what will stop working before the person confirms; afterwards one
email, in their language, lists what was removed, and a security event records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.mfa.base import FactorContext
from idp.mfa.enrolment import ACCOUNT_PATH
from idp.mfa.errors import FactorNotAvailable
from idp.mfa.models import EmailCode, TotpAuthenticator, WebAuthnCredential
from idp.mfa.recovery import RecoveryCodeService
from idp.mfa.security_key import KeySummary, WebAuthnService
from idp.oidc.revocation import end_all_access
from idp.signin.flow import EMAIL_CODE, TOTP, WEBAUTHN
from idp.signin.sessions import SessionService

RECOVERED_TEMPLATE = "account-recovered"


@dataclass(frozen=True)
class LostMethods:
    """What a recovery takes away: what the page announces and the email lists."""

    has_app: bool
    keys: tuple[KeySummary, ...]
    has_email_code: bool

    @property
    def names(self) -> list[str]:
        """The methods, by factor name (the security event's "removed")."""
        return [name for name, lost in ((TOTP, self.has_app), (WEBAUTHN, bool(self.keys)),
                                        (EMAIL_CODE, self.has_email_code)) if lost]


class AccountRecoveryService:
    def __init__(
        self,
        session: Session,
        settings: Settings,
        clock: Clock,
        codes: RecoveryCodeService,
        webauthn: WebAuthnService,
        sessions: SessionService,
        mail: Any,
    ):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.codes = codes
        self.webauthn = webauthn
        self.sessions = sessions
        self.mail = mail

    def lost_methods(self, user: User) -> LostMethods:
        """What recovering would remove from this person's account now."""
        has_app = self.session.scalar(
            select(TotpAuthenticator.id).where(
                TotpAuthenticator.user_id == user.id, TotpAuthenticator.confirmed_at.is_not(None)
            )
        ) is not None
        return LostMethods(
            has_app=has_app,
            keys=tuple(self.webauthn.summaries(user.id)),
            has_email_code=user.email_code_enrolled_at is not None,
        )

    def recover(self, user: User, typed_code: str, context: FactorContext) -> LostMethods:
        """Spend one recovery code, then remove the methods the person lost and end their
        sessions. Returns what was removed. Raises FactorNotAvailable (no recovery code
        left), or what RecoveryCodeService.use raises (nothing is removed then)."""
        if not self.codes.is_enrolled(user):
            raise FactorNotAvailable
        self.codes.use(user.id, typed_code, context, notify=False)
        lost = self.lost_methods(user)
        # An app whose set-up was never confirmed goes too: the new set-up starts from a new key.
        self.session.execute(delete(TotpAuthenticator).where(TotpAuthenticator.user_id == user.id))
        self.session.execute(delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id))
        now = self.clock()
        # A code already on its way to the mailbox must not finish another sign-in.
        self.session.execute(
            update(EmailCode).where(EmailCode.user_id == user.id, EmailCode.burned_at.is_(None))
            .values(burned_at=now).execution_options(synchronize_session=False)
        )
        user.email_code_enrolled_at = None
        user.mfa_default_factor = None
        # Every grant too, offline_access included: a native app on the lost phone may hold one.
        ended = end_all_access(self.sessions, user.id)
        remaining = self.codes.remaining(user.id)
        record_event(
            self.session, self.clock, EventTag.MFA_LOST_METHODS_REMOVED, user_id=user.id,
            ip_address=context.ip_address, user_agent=context.user_agent,
            removed=lost.names, sessions_ended=ended, recovery_codes_left=remaining,
        )
        self._notify(user, lost, now, remaining, context)
        self.session.flush()
        return lost

    def _notify(self, user: User, lost: LostMethods, now: datetime, remaining: int, context: FactorContext) -> None:
        if not user.email:
            return
        self.mail.enqueue(
            to=user.email,
            template=RECOVERED_TEMPLATE,
            locale=context.locale or user.locale,
            user_id=user.id,
            context={
                "given_name": user.given_name,
                "recovered_at": now.isoformat(),
                "has_app": lost.has_app,
                "keys": [key.as_mail_context() for key in lost.keys],
                "has_email_code": lost.has_email_code,
                "remaining": remaining,
                "account_url": self.settings.OIDC_ISSUER + ACCOUNT_PATH,
            },
        )
