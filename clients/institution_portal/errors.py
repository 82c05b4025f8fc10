"""Why a sign-in is refused: each becomes a translated page (auth/views.py). The refusals
every portal shares (Passerelle's errors, a bad state, an unverifiable ID token, Passerelle
out of reach) are portal_kit.errors'; this portal adds its own."""

from __future__ import annotations

from clients.portal_kit.errors import (
    BadState,
    InvalidIdToken,
    ProviderError,
    ProviderUnavailable,
    SigninError,
    WrongIssuer,
)

__all__ = ["BadState", "InvalidIdToken", "ProviderError", "ProviderUnavailable", "SigninError", "WrongIssuer"]


class AssuranceTooLow(SigninError):
    """The sign-in did not reach two-factor (acr below the level, or no mfa in amr)."""


class NoMembership(SigninError):
    """The person is not an active member of any organization."""


class NotAnInstitution(SigninError):
    """The person's organization is not a designated learning institution (kind dli)."""


# The organizations API (organizations_api.py): each refusal Passerelle can give the portal.


class OrganizationsApiError(Exception):
    """A call to Passerelle's organizations API did not do what was asked."""


class ApiUnavailable(OrganizationsApiError):
    """Passerelle could not be reached, timed out, failed (5xx) or answered something unreadable."""


class ApiNotAllowed(OrganizationsApiError):
    """Passerelle refused the portal's own credentials or scope: an operator must fix the
    registration (the organizations scope, client_credentials, the secret)."""


class ApiRateLimited(OrganizationsApiError):
    """Too many invitations or requests in a short time: try again later."""


class OrganizationNotReachable(OrganizationsApiError):
    """The organization does not exist for the portal (not attached to its client)."""


class NotPrimaryUser(OrganizationsApiError):
    """The person acting is not (or no longer) the organization's active primary user."""


class OrganizationDisabled(OrganizationsApiError):
    """The organization is disabled at Passerelle."""


class AlreadyMember(OrganizationsApiError):
    """The address already belongs to a member of the organization."""


class RequestAlreadyPending(OrganizationsApiError):
    """An identical request is already waiting for a decision."""


class PrimaryCannotBeRemoved(OrganizationsApiError):
    """The primary user cannot be removed; a change of primary user is the way."""


class PrimaryExists(OrganizationsApiError):
    """The organization already has an active primary user."""


class InvalidApiRequest(OrganizationsApiError):
    """Passerelle found the request malformed; `field` names the member it blamed, if any."""

    def __init__(self, description: str, field: str | None = None):
        super().__init__(description)
        self.description = description
        self.field = field


class NotASecondaryUser(OrganizationsApiError):
    """The person named is not an active secondary user of the institution."""
