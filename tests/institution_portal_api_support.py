"""Helpers for the institution portal's tests that use Passerelle's organizations API: the
portal registered as `idp demo` registers it (sign-in plus client_credentials with the
organizations scope) and a DLI attached to its client (`idp orgs attach`)."""

from __future__ import annotations

from idp.context import app_context
from idp.extensions import db
from idp.orgs.attachments import AttachmentService
from idp.orgs.models import Organization
from tests.institution_portal_support import PORTAL_SCOPE, register_portal

API_PORTAL_SCOPE = f"{PORTAL_SCOPE} organizations"
API_GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def register_api_portal(idp_app, **options):
    """The portal's registration with the organizations API allowed."""
    options.setdefault("scope", API_PORTAL_SCOPE)
    options.setdefault("grant_types", API_GRANT_TYPES)
    return register_portal(idp_app, **options)


def attach(idp_app, organization_id: int, client_id: str) -> None:
    """An operator lets the client's API reach the organization."""
    with idp_app.app_context():
        organization = db.session.get(Organization, organization_id)
        AttachmentService(db.session, app_context().clock).attach(organization, client_id, by_operator="ops")
        db.session.commit()


def subject_of(idp_app, client_id: str, email: str) -> str:
    """The person's sub for the client, as its ID tokens and the API name them."""
    from sqlalchemy import select

    from idp.accounts.models import User
    from idp.oidc.claims import subject_for
    from idp.oidc.models import Client

    with idp_app.app_context():
        record = db.session.scalar(select(Client).where(Client.client_id == client_id))
        user = db.session.scalar(select(User).where(User.email == email))
        return subject_for(record.subject_type, record.sector_identifier, user.subject,
                           app_context().settings.OIDC_PAIRWISE_SALT)
