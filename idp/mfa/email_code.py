"""The emailed sign-in code as a Factor (issue 3, seed 001: "Valider le code").

Email proves control of a mailbox, not possession of a device, so this factor's amr is
"email" and a session that used it reaches ACR_PASSWORD_EMAIL, never a two-factor level
(idp.signin.assurance; NIST SP 800-63B §5.1.3.1).
"""

from __future__ import annotations

from typing import ClassVar

from idp.accounts.models import User
from idp.mfa.base import FactorContext
from idp.mfa.models import EmailCode
from idp.mfa.services import EmailCodeService
from idp.signin.flow import FACTOR_AMR, EMAIL_CODE


def mask_email(address: str) -> str:
    """"ana@example.ca" -> "a***@example.ca": enough for the person to recognise, not enough
    for someone looking over their shoulder to learn the address."""
    local, at, domain = (address or "").partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


class EmailCodeFactor:
    name: ClassVar[str] = EMAIL_CODE
    amr: ClassVar[tuple[str, ...]] = FACTOR_AMR[EMAIL_CODE]
    strength: ClassVar[int] = 1  # below an authenticator app or a security key
    endpoint: ClassVar[str] = "mfa.email_code"

    def __init__(self, service: EmailCodeService):
        self.service = service

    def is_enrolled(self, user: User) -> bool:
        """Before two-factor is set up, every account can receive codes at the address
        registration verified: that is how the person proves it is them before choosing a
        method. After, only if they chose it."""
        if not user.email:
            return False
        return user.mfa_enrolled_at is None or user.email_code_enrolled_at is not None

    def begin(self, user: User, context: FactorContext) -> EmailCode | None:
        """Send the first code of this sign-in; None when one was already sent for it."""
        return self.service.send_first(user, context)

    def verify(self, user: User, response: str, context: FactorContext) -> None:
        self.service.verify(user.id, response, context)
