"""Managing two-factor from the account page (issue 4, seed 002 "Modifier votre méthode"):
add a method, remove one (never the last), change the default, new recovery codes.

Only after a fresh two-factor sign-in (is_fresh): whoever holds a forgotten open session
must not be able to swap the person's methods. Every change is a security event and an
email to the person, who learns at once if it was not them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.mfa.base import FactorContext
from idp.mfa.enrolment import ACCOUNT_PATH, EnrolmentService
from idp.mfa.errors import FactorNotAvailable, LastMethod
from idp.mfa.models import TotpAuthenticator
from idp.mfa.recovery import RecoveryCodeService
from idp.mfa.security_key import KeySummary
from idp.mfa.services import MfaService
from idp.signin.assurance import AMR_EMAIL, AMR_HWK, AMR_OTP, AMR_RECOVERY_CODE, AMR_SWK
from idp.signin.flow import EMAIL_CODE, TOTP, WEBAUTHN
from idp.signin.models import UserSession

# A session whose sign-in used one of these proved a second factor.
SECOND_FACTOR_METHODS = frozenset({AMR_EMAIL, AMR_OTP, AMR_HWK, AMR_SWK, AMR_RECOVERY_CODE})
CHANGE_TEMPLATE = "mfa-changed"


class ManageService:
    def __init__(
        self,
        session: Session,
        settings: Settings,
        clock: Clock,
        mfa: MfaService,
        enrolment: EnrolmentService,
        recovery: RecoveryCodeService,
        mail: Any,
        webauthn: Any = None,
    ):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.mfa = mfa
        self.enrolment = enrolment
        self.recovery = recovery
        self.mail = mail
        self.webauthn = webauthn

    def is_fresh(self, user_session: UserSession) -> bool:
        """The session's sign-in used a second factor less than MFA_MANAGE_FRESHNESS ago."""
        age = self.clock() - user_session.auth_time
        used_second_factor = bool(set(user_session.amr or []) & SECOND_FACTOR_METHODS)
        return used_second_factor and age <= timedelta(seconds=int(self.settings.MFA_MANAGE_FRESHNESS))

    def methods(self, user: User) -> list[str]:
        """The set-up methods, default first (none before set-up)."""
        if user.mfa_enrolled_at is None:
            return []
        return [factor.name for factor in self.mfa.enrolled(user)]

    def added(self, user: User, method: str, context: FactorContext) -> list[str] | None:
        """A method was just proved (the caller checked it): before set-up this is the set-up
        (returns the recovery codes to show); after, a notification."""
        if method == EMAIL_CODE:
            user.email_code_enrolled_at = user.email_code_enrolled_at or self.clock()
        if user.mfa_enrolled_at is None:
            return self.enrolment.complete(user, method, context)
        self._changed(user, EventTag.MFA_METHOD_ADDED, "added", method, context)
        return None

    def remove(self, user: User, method: str, context: FactorContext) -> None:
        """Remove a method. Raises LastMethod (two-factor stays mandatory: a method is
        removed only once another one is set up) or FactorNotAvailable."""
        methods = self.methods(user)
        if method not in methods:
            raise FactorNotAvailable
        if len(methods) == 1:
            raise LastMethod
        if method == TOTP:
            self.session.execute(delete(TotpAuthenticator).where(TotpAuthenticator.user_id == user.id))
        elif method == EMAIL_CODE:
            user.email_code_enrolled_at = None
        elif method == WEBAUTHN and self.webauthn is not None:
            for credential in self.webauthn.credentials(user.id):
                self.session.delete(credential)
        self.session.flush()
        if user.mfa_default_factor == method:
            user.mfa_default_factor = next(name for name in self.methods(user) if name != method)
        self._changed(user, EventTag.MFA_METHOD_REMOVED, "removed", method, context)

    def security_keys(self, user: User) -> list[KeySummary]:
        """Each key and passkey, so the page can name them apart (issue 9)."""
        return self.webauthn.summaries(user.id) if self.webauthn is not None else []

    def remove_key(self, user: User, key_id: int | None, context: FactorContext) -> None:
        """Remove one of the person's keys. Raises FactorNotAvailable (not one of theirs) or
        LastMethod (their only key, and keys their only method)."""
        credentials = self.webauthn.credentials(user.id) if self.webauthn is not None else []
        key = next((credential for credential in credentials if credential.id == key_id), None)
        if key is None:
            raise FactorNotAvailable
        if len(credentials) == 1:  # the method itself goes: never the last one
            self.remove(user, WEBAUTHN, context)
            return
        summary = next(summary for summary in self.security_keys(user) if summary.id == key.id)
        self.session.delete(key)
        self.session.flush()
        self._changed(
            user, EventTag.MFA_METHOD_REMOVED, "key_removed", WEBAUTHN, context, key=summary.as_mail_context()
        )

    def set_default(self, user: User, method: str, context: FactorContext) -> None:
        if method not in self.methods(user):
            raise FactorNotAvailable
        user.mfa_default_factor = method
        self._changed(user, EventTag.MFA_DEFAULT_CHANGED, "default", method, context)

    def regenerate_codes(self, user: User, context: FactorContext) -> list[str]:
        """A new set of recovery codes; every earlier one stops working."""
        if user.mfa_enrolled_at is None:
            raise FactorNotAvailable
        codes = self.recovery.generate(user.id)
        self._changed(user, EventTag.RECOVERY_CODES_REGENERATED, "codes", None, context)
        return codes

    def _changed(
        self, user: User, tag: EventTag, change: str, method: str | None, context: FactorContext,
        key: dict | None = None,
    ) -> None:
        """Record the change and email the person; key names the one key removed, if any."""
        now = self.clock()
        record_event(
            self.session, self.clock, tag, user_id=user.id,
            ip_address=context.ip_address, user_agent=context.user_agent, method=method,
        )
        self.mail.enqueue(
            to=user.email,
            template=CHANGE_TEMPLATE,
            locale=context.locale or user.locale,
            user_id=user.id,
            context={
                "given_name": user.given_name,
                "change": change,
                "method": method,
                "changed_at": now.isoformat(),
                "account_url": self.settings.OIDC_ISSUER + ACCOUNT_PATH,
                "key": key,
            },
        )
        self.session.flush()
