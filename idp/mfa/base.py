"""The one small interface every second factor implements (design.md, House style 7).

A factor is one module (email_code.py today; issue 4 adds totp.py, webauthn.py,
recovery_codes.py) whose class satisfies Factor, plus its name in
idp.signin.flow.SigninPolicy.second_factors and in idp.mfa.factors.FACTOR_TYPES. The
sign-in asks MfaService for the person's preferred enrolled factor, sends them to that
factor's page (its endpoint), and records the factor's name as the step done; the session
then carries the factor's amr values (idp.signin.assurance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from idp.accounts.models import User


@dataclass(frozen=True)
class FactorContext:
    """Where a factor is being used: the sign-in (codes and challenges belong to one, ASVS
    6.6.2), the page's language (for mail), and who asks (for security events)."""

    transaction_id: int | None
    locale: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None


@runtime_checkable
class Factor(Protocol):
    # Its steps_done key and the value forms and events use, e.g. "email_code".
    name: ClassVar[str]
    # RFC 8176 values (or documented Passerelle values) a session that used it carries.
    amr: ClassVar[tuple[str, ...]]
    # Higher is stronger; the sign-in asks for the strongest enrolled factor first.
    strength: ClassVar[int]
    # The Flask endpoint of the page that asks for it.
    endpoint: ClassVar[str]

    def is_enrolled(self, user: User) -> bool:
        """Can this person use the factor now?"""
        ...

    def begin(self, user: User, context: FactorContext) -> Any:
        """Prepare a verification (send a code, make a challenge); returns what the page
        needs, or None. Raises MfaError subclasses when it cannot begin."""
        ...

    def verify(self, user: User, response: str, context: FactorContext) -> None:
        """Accept the person's response or raise an MfaError subclass. Race-safe: the
        secret is burned on success, so two concurrent requests cannot both pass."""
        ...
