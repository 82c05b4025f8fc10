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


def signed_in(portal_app, idp_app, client_id: str, email: str, role: str, organization_public_id: str,
              number: str = "O123456789012", names: tuple[str, str] = ("Collège Imaginaire", "Imaginary College"),
              accept_terms: bool = True, person_names: bool = True):
    """A test client of the portal holding a portal session for the person, as a finished
    sign-in leaves it (tests/integration/institution_portal/test_signin.py walks the real one):
    the sub is the person's real sub for the portal's client, so the API knows them."""
    from clients.institution_portal.auth.services import SessionService
    from clients.institution_portal.claims import Identity
    from clients.institution_portal.db import db as portal_db
    from clients.institution_portal.terms.services import TermsService
    from clients.institution_portal.web import SESSION_TOKEN_KEY

    sub = subject_of(idp_app, client_id, email)
    identity = Identity(sub=sub, acr="urn:passerelle:acr:mfa", organization_id=organization_public_id,
                        organization_number=number, organization_name_fr=names[0], organization_name_en=names[1],
                        role=role)
    with portal_app.app_context():
        portal = portal_app.extensions["institution_portal"]
        token = SessionService(portal_db.session, portal.settings, portal.clock).open(
            identity, id_token_like(sub=sub, **({"given_name": "Zoé", "family_name": "Citoyenne"} if person_names else {})))
        if accept_terms:
            TermsService(portal_db.session, portal.settings, portal.clock).accept(sub)
        portal_db.session.commit()
    browser = portal_app.test_client()
    with browser.session_transaction() as session:
        session[SESSION_TOKEN_KEY] = token
    return browser


def users_and_letters_contexts(prefix: str) -> dict:
    """Context for the users and letters pages in the every-template checks
    (tests/unit/test_translations.py), as their views render them."""
    from datetime import UTC, date, datetime

    from clients.institution_portal.letters.forms import DecisionForm
    from clients.institution_portal.organizations_api import (
        ChangeRequest,
        Member,
        MemberInvitation,
    )
    from clients.institution_portal.users.forms import (
        ChangePrimaryForm,
        InviteForm,
        RemoveSecondaryForm,
    )
    from clients.institution_portal.users.services import UsersOverview

    moment = datetime(2026, 12, 7, tzinfo=UTC)
    secondary = Member("sub-s", "sam@example.ca", "Sam", "Tremblay", "secondary", "active", moment)
    overview = UsersOverview(
        members=[Member("sub-p", "pat@example.ca", "Pat", "Gagnon", "primary", "active", moment), secondary],
        invitations=[MemberInvitation("i1", "lou@example.ca", "secondary", "pending", "fr", moment, moment)],
        requests=[ChangeRequest("r1", "remove_secondary", "pending", "Départ.", "sub-p", "sub-s", None, None, moment,
                                None, None)],
    )
    letter = letter_view(date, moment)
    return {
        f"{prefix}users/index.html": lambda: {"overview": overview, "now": moment},
        f"{prefix}users/invite.html": lambda: {"form": InviteForm(), "problems": []},
        f"{prefix}users/remove.html": lambda: {"form": RemoveSecondaryForm(), "problems": [], "secondaries": [secondary]},
        f"{prefix}users/change_primary.html": lambda: {"form": ChangePrimaryForm(), "problems": [],
                                                       "secondaries": [secondary], "new_choice": "new"},
        f"{prefix}users/unavailable.html": lambda: {"message": "Passerelle"},
        f"{prefix}letters/index.html": lambda: {"pending": [letter], "decided": [letter]},
        f"{prefix}letters/show.html": lambda: {"letter": letter, "form": DecisionForm(), "problems": []},
    }


def letter_view(date, moment):
    from types import SimpleNamespace

    return SimpleNamespace(public_id="L1", letter_number="LOA-2026-0001", family_name="Tremblay",
                           given_names="Marie", birth_date=date(2004, 5, 14), program="Génie civil",
                           start_date=date(2027, 1, 10), requested_at=moment, decision=None, decided_at=None,
                           decided_by_name=None, reason=None, is_pending=True)


def id_token_like(**claims) -> str:
    """What the portal keeps of a verified ID token (it reads names from it), unsigned here."""
    import base64
    import json

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256'})}.{part(claims)}.signature"
