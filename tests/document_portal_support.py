"""Helpers for the document portal's tests (dp-app): its client registered at a live
Passerelle, the portal built against it with the demo school's certificate, a school (an
issuing organization) with staff who can reach two-factor, PDFs to upload, and the walk
through Passerelle's sign-in (tests/institution_portal_support.follow_passerelle)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from reportlab.pdfgen import canvas

from clients.document_portal import create_app
from clients.document_portal.db import db as portal_db
from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from tests.institution_portal_support import (
    add_authenticator_app,
    follow_passerelle,
    local,
)
from tests.oidc_support import PASSWORD, make_client
from tests.orgs_support import OPERATOR, org_service

ORIGIN = "http://127.0.0.1:5004"
SCOPE = "openid profile email organization invitations"
SECRET_KEY = "insecure-test-document-portal-key-0123456789abcdef"
PASSWORD_ENV = "DOCUMENT_PORTAL_TEST_SIGNING_PASSWORD"
SCHOOL_NUMBER = "E000000000001"
OTHER_SCHOOL_NUMBER = "E000000000002"


def register_document_portal(idp_app, origin: str = ORIGIN, **options):
    """The portal's client registration at Passerelle, as `idp demo` makes it."""
    options.setdefault("scope", SCOPE)
    options.setdefault("grant_types", ["authorization_code", "refresh_token", "client_credentials"])
    return make_client(idp_app, name="Portail de documents", redirect_uris=[f"{origin}/callback"],
                       post_logout_redirect_uris=[f"{origin}/signed-out"], **options)


def build_document_portal(issuer: str, registration, database_path, pki, origin: str = ORIGIN,
                          signers: tuple[str, ...] = (SCHOOL_NUMBER, OTHER_SCHOOL_NUMBER), **overrides):
    """The portal on a fresh SQLite file, its tables made from the models, signing for the
    given schools' numbers with the demo PKI's school certificate."""
    settings = {
        "DOCUMENT_PORTAL_ENV": "development",
        "DOCUMENT_PORTAL_ISSUER": issuer,
        "DOCUMENT_PORTAL_CLIENT_ID": registration.client_id,
        "DOCUMENT_PORTAL_CLIENT_SECRET": registration.client_secret,
        "DOCUMENT_PORTAL_BASE_URL": origin,
        "DOCUMENT_PORTAL_SECRET_KEY": SECRET_KEY,
        "DOCUMENT_PORTAL_DATABASE_URL": f"sqlite:///{database_path}",
        "DOCUMENT_PORTAL_SIGNERS": {number: {"pkcs12": str(pki.school_pkcs12), "password_env": PASSWORD_ENV}
                                    for number in signers},
        "DOCUMENT_PORTAL_TRUST_ROOTS": [str(pki.ca_certificate)],
        **overrides,
    }
    app = create_app(settings, environ={PASSWORD_ENV: pki.password()})
    with app.app_context():
        portal_db.create_all()
    return app


@dataclass
class School:
    public_id: str
    number: str
    staff: dict[str, int]  # email -> user id


def school_with_staff(idp_app, staff: tuple[str, ...], number: str = SCHOOL_NUMBER, name_fr: str = "École Imaginaire",
                      name_en: str = "Imaginary School") -> School:
    """An issuing organization whose staff registered through its invitations (the first is
    its primary user), each with the OIDC tests' password."""
    with idp_app.app_context():
        ctx = app_context()
        service = org_service()
        organization = service.create(kind="issuer", number=number, name_fr=name_fr, name_en=name_en,
                                      by_operator="ana")
        members = {}
        for position, email in enumerate(staff):
            invitation, _code = service.invite(organization.id, email=email,
                                               role="primary" if position == 0 else "secondary", inviter=OPERATOR)
            user = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(
                email, "Camille", "Registraire", PASSWORD)
            service.invitations.accept(invitation.id, user.id)
            service.join_from_invitation(invitation, user)
            members[email] = user.id
        db.session.commit()
        return School(organization.public_id, number, members)


def with_two_factor(idp_app, user_id: int, clock) -> str:
    """The person sets up an authenticator app at Passerelle (their default stays the emailed
    code, so a sign-in without acr_values is below two-factor); returns its key."""
    return add_authenticator_app(idp_app, user_id, clock)


def sign_in(browser, email: str, clock, app_secret: str | None = None, language: str = "fr"):
    """/login, Passerelle's pages as a browser would walk them, then the callback (and a
    step-up round when the portal asks for one). Returns the portal's last response."""
    response = browser.get("/login", headers={"Accept-Language": language})
    passerelle = requests.Session()  # one browser: Passerelle's session carries over to a step-up
    for _ in range(3):
        location = response.headers.get("Location", "")
        if response.status_code != 302 or location.startswith(ORIGIN) or not location.startswith("http"):
            return response
        back = follow_passerelle(passerelle, location, email, clock, app_secret, origin=ORIGIN)
        response = browser.get(local(back), headers={"Accept-Language": language})
    return response


def plain_pdf(text: str = "Relevé de notes — Zoé Citoyenne") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def path_of(url: str) -> str:
    return urlsplit(url).path
