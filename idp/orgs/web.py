"""Organizations for a request: the service built from the app's context, and the words
that name kinds, roles and request states, for the organization pages and the account home
(kept out of views.py so that the account home never imports another feature's views).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from idp.context import app_context
from idp.extensions import db
from idp.orgs.models import MemberRole, OrganizationKind, RequestKind, RequestState
from idp.orgs.requests import ChangeRequestService
from idp.signin.current import get_mail_service

KIND_NAMES = {
    OrganizationKind.DLI: _l("Designated learning institution (DLI)"),
    OrganizationKind.ISSUER: _l("School that issues documents"),
}
ROLE_NAMES = {
    MemberRole.PRIMARY: _l("Primary user"),
    MemberRole.SECONDARY: _l("Secondary user"),
}
REQUEST_KIND_NAMES = {
    RequestKind.CHANGE_PRIMARY: _l("Change the primary user"),
    RequestKind.REMOVE_SECONDARY: _l("Remove a secondary user"),
}
REQUEST_STATE_NAMES = {
    RequestState.PENDING: _l("Waiting for a decision"),
    RequestState.APPROVED: _l("Approved"),
    RequestState.REJECTED: _l("Rejected"),
}


def get_organization_service() -> ChangeRequestService:
    ctx = app_context()
    return ChangeRequestService(db.session, ctx.settings, ctx.clock, ctx.hasher, get_mail_service())


@dataclass(frozen=True)
class OrganizationSummary:
    """One of the person's organizations as the account home shows it, in the page's language."""

    public_id: str
    name: str
    number: str
    kind: str
    role: str
    is_primary: bool
    is_active: bool


def organization_summaries(user_id: int) -> list[OrganizationSummary]:
    """The person's active memberships, for the account home (none: nothing is shown)."""
    locale = str(get_locale())
    return [
        OrganizationSummary(
            public_id=organization.public_id,
            name=organization.name_in(locale),
            number=organization.number,
            kind=str(KIND_NAMES.get(organization.kind, organization.kind)),
            role=str(ROLE_NAMES.get(membership.role, membership.role)),
            is_primary=membership.role == MemberRole.PRIMARY,
            is_active=organization.is_active,
        )
        for membership, organization in get_organization_service().memberships_of(user_id)
    ]
