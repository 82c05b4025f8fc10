"""Why a sign-in, a call to Passerelle's invitations API or an issuing action did not do
what was asked: each becomes a translated page or form error in the views."""

from __future__ import annotations

from clients.portal_kit.errors import (
    BadState,
    InvalidIdToken,
    ProviderError,
    ProviderUnavailable,
    SigninError,
    WrongIssuer,
)

__all__ = [
    "BadState",
    "InvalidIdToken",
    "ProviderError",
    "ProviderUnavailable",
    "SigninError",
    "StaffNeedsTwoFactor",
    "WrongIssuer",
]


class StaffNeedsTwoFactor(SigninError):
    """A member of an issuing organization signed in below two-factor: staff must reach it."""


# Passerelle's invitations API (invitations_api.py).


class InvitationsApiError(Exception):
    """A call to Passerelle's invitations API did not do what was asked."""


class ApiUnavailable(InvitationsApiError):
    """Passerelle could not be reached, timed out, failed (5xx) or answered something unreadable."""


class ApiNotAllowed(InvitationsApiError):
    """Passerelle refused the portal's credentials or scope (invitations, client_credentials):
    an operator must fix the registration."""


class ApiRateLimited(InvitationsApiError):
    """Too many invitations in a short time: try again later."""


class ApiRefused(InvitationsApiError):
    """Passerelle found the invitation malformed (an address it will not mail, …)."""

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


# Issuing (issuing/services.py).


class IssuingError(Exception):
    """An issuing action staff asked for that the portal refuses."""


class DocumentNotFound(IssuingError):
    """No document with that id belongs to the staff member's school (another school's
    document is "not found" too: an id learns nothing)."""


class AlreadyWithdrawn(IssuingError):
    """The document was already withdrawn."""


class InvalidField(IssuingError):
    """One field of a document to issue is refused; `field` names it, `reason` says why
    (a code the views translate)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class BulkRefused(IssuingError):
    """A bulk issue is refused as a whole (nothing issued): `problems` lists (line, field,
    reason) for each row or file that is wrong; line 0 is the CSV or ZIP itself."""

    def __init__(self, problems: list[tuple[int, str, str]]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems
