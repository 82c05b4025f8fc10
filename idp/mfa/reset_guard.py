"""A password reset demands the person's second factor when they have one that is not
email (security checklist REC-07, ASVS 6.4.3): whoever reads the mailbox gets the reset
link, so the link alone must not change the password of an account that a code from an
app, a security key or a recovery code protects. An emailed code proves nothing more than
the link did, so accounts whose only method is email reset with the link alone."""

from __future__ import annotations

import re

from idp.accounts.models import User
from idp.mfa.authenticator_app import TotpService
from idp.mfa.base import FactorContext
from idp.mfa.errors import FactorNotAvailable
from idp.mfa.recovery import RecoveryCodeService

_APP_CODE = re.compile(r"^[0-9]{6}$")


class ResetGuard:
    def __init__(self, totp: TotpService, recovery: RecoveryCodeService, has_security_keys):
        self.totp = totp
        self.recovery = recovery
        self.has_security_keys = has_security_keys

    def is_required(self, user: User) -> bool:
        """The account has a method that is not email: the reset asks for it."""
        return self.totp.is_confirmed(user.id) or bool(self.has_security_keys(user.id))

    def accepts_app_code(self, user: User) -> bool:
        return self.totp.is_confirmed(user.id)

    def check(self, user: User, typed: str, context: FactorContext) -> None:
        """A current code from the app, or one recovery code (spent). Raises the factor's
        MfaError (InvalidCode, AttemptTooEarly, AccountLocked) or FactorNotAvailable."""
        code = "".join(character for character in (typed or "") if not character.isspace())
        if _APP_CODE.match(code) and self.totp.is_confirmed(user.id):
            self.totp.verify(user.id, code, context)
            return
        if user.mfa_enrolled_at is None:
            raise FactorNotAvailable
        self.recovery.use(user.id, typed, context)
