"""Why an organizations operation was refused. The CLI prints each class's first docstring
line; pages and the API (issue 11, phase 2) map each class to their own message."""

from __future__ import annotations


class OrgError(Exception):
    """Base class of the organizations feature's domain errors."""


class InvalidOrganization(OrgError):
    """A value given for an organization, an invitation or a request is malformed; `field`
    names which one and `reason` says why (English, for operators and API developers).
    `problem`, when known, names the kind of mistake for pages to translate: "missing",
    "too_long", "line_break", "bidi", "markup", "not_text", "email"."""

    def __init__(self, field: str, reason: str, problem: str | None = None):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.problem = problem


class InvitationNotOpen(OrgError):
    """No pending or expired invitation of this organization has this id (it was used,
    withdrawn, or belongs to another organization)."""


class OrganizationNotFound(OrgError):
    """No organization has this id or number."""


class DuplicateOrganizationNumber(OrgError):
    """Another organization of this kind already has this number."""


class OrganizationDisabled(OrgError):
    """The organization is disabled: nobody can join it and its requests cannot be decided."""


class MemberNotFound(OrgError):
    """No active member of this organization matches."""


class AlreadyMember(OrgError):
    """This address already belongs to a member of the organization."""


class NotPrimaryUser(OrgError):
    """Only the organization's active primary user may do this."""


class PrimaryAlreadyExists(OrgError):
    """The organization already has an active primary user: change it with a request."""


class LastPrimaryCannotBeRemoved(OrgError):
    """The primary user cannot be removed: ask to change the primary user instead."""


class RequestNotFound(OrgError):
    """No request has this id."""


class RequestAlreadyDecided(OrgError):
    """The request was already approved or rejected."""


class RequestAlreadyPending(OrgError):
    """An identical request is already waiting for a decision."""
