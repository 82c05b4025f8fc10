"""Helpers for the tests of the document portal's learner side (dp-learner): the portal built
on a fresh SQLite file with the demo authority as its trust root, documents really signed by
the demo school (pyHanko), and a learner signed in without a trip to Passerelle (their portal
session opened directly, as the callback would)."""

from __future__ import annotations

import hashlib
from io import BytesIO

from reportlab.pdfgen import canvas

from clients.document_portal import create_app
from clients.document_portal.auth.services import SessionService
from clients.document_portal.claims import Identity
from clients.document_portal.db import db
from clients.document_portal.documents.models import Document
from clients.document_portal.signing.credentials import load_pkcs12
from clients.document_portal.signing.pades import sign_pdf
from clients.document_portal.web import EXTENSION, SESSION_TOKEN_KEY

SCHOOL_NUMBER = "O123456789012"
PASSWORD_ENV = "DP_LEARNER_TEST_SIGNING_PASSWORD"
SECRET_KEY = "insecure-test-document-portal-key-0123456789"
ORIGIN = "http://127.0.0.1:5004"
ZOE, OTHER = "pairwise-zoe", "pairwise-other"


def build_app(database_path, pki, clock, origin: str = ORIGIN, issuer: str = "http://127.0.0.1:9", **overrides):
    """The portal, signing for École Imaginaire with the demo PKI, its tables from the models."""
    settings = {
        "DOCUMENT_PORTAL_ENV": "development",
        "DOCUMENT_PORTAL_ISSUER": issuer,
        "DOCUMENT_PORTAL_CLIENT_ID": "document-portal",
        "DOCUMENT_PORTAL_CLIENT_SECRET": "client-secret",
        "DOCUMENT_PORTAL_BASE_URL": origin,
        "DOCUMENT_PORTAL_SECRET_KEY": SECRET_KEY,
        "DOCUMENT_PORTAL_DATABASE_URL": f"sqlite:///{database_path}",
        "DOCUMENT_PORTAL_SIGNERS": {SCHOOL_NUMBER: {"pkcs12": str(pki.school_pkcs12), "password_env": PASSWORD_ENV}},
        "DOCUMENT_PORTAL_TRUST_ROOTS": [str(pki.ca_certificate)],
        **overrides,
    }
    app = create_app(settings, clock=clock, environ={PASSWORD_ENV: pki.password()})
    with app.app_context():
        db.create_all()
    return app


def plain_pdf(text: str = "Relevé de notes — Zoé Citoyenne") -> bytes:
    buffer = BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def signed_by(pki, pdf: bytes | None = None) -> bytes:
    """A PDF signed with pki's school certificate (the demo one, or a foreign look-alike)."""
    credentials = load_pkcs12(pki.school_pkcs12.read_bytes(), pki.password())
    return sign_pdf(pdf or plain_pdf(), credentials, reason="Document officiel")


def issue(app, learner_sub: str | None = ZOE, pdf: bytes | None = None, **fields) -> Document:
    """A document École Imaginaire issued and the portal signed, bound to learner_sub."""
    with app.app_context():
        portal = app.extensions[EXTENSION]
        signed = pdf if pdf is not None else portal.signing.sign(plain_pdf(), SCHOOL_NUMBER, reason="Document officiel")
        values = {
            "issuer_organization_id": "org-ecole", "issuer_name_fr": "École Imaginaire",
            "issuer_name_en": "Imaginary School", "contact_email": "info@ecole-imaginaire.ca",
            "kind": "transcript", "title_fr": "Relevé de notes", "title_en": "Transcript",
            "learner_given_name": "Zoé", "learner_family_name": "Citoyenne", "learner_email": "zoe@example.ca",
            "learner_locale": "fr", "learner_sub": learner_sub, "pdf": signed,
            "sha256": hashlib.sha256(signed).hexdigest(), "issued_at": portal.clock(), "issued_by_sub": "staff-1",
            "state": "issued", **fields,
        }
        columns = Document.__table__.columns.keys()
        document = Document(**{name: value for name, value in values.items() if name in columns})
        db.session.add(document)
        db.session.commit()
        db.session.refresh(document)
        db.session.expunge(document)
        return document


def open_session(app, sub: str = ZOE, role: str = "learner") -> str:
    """The learner's portal session, as the callback opens it after Passerelle's sign-in;
    returns the plain token the browser's session holds."""
    with app.app_context():
        portal = app.extensions[EXTENSION]
        token = SessionService(db.session, portal.settings, portal.clock).open(
            Identity(sub=sub, role=role, acr="urn:passerelle:acr:pwd", given_name="Zoé", family_name="Citoyenne",
                     email="zoe@example.ca"), "id-token")
        db.session.commit()
    return token


def sign_in(app, client, sub: str = ZOE, role: str = "learner") -> None:
    """The test client signed in to the portal as `sub`."""
    token = open_session(app, sub, role)
    with client.session_transaction() as session:
        session[SESSION_TOKEN_KEY] = token

def visitor(app, address: str):
    """A browser with no account at the portal, from its own address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client

