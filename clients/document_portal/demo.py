"""Demo data for `make run` (development only): the demo certificate authority and the
school's certificate with the settings file that points the portal at them, and one
transcript issued to the demo user through the real path (rendered, signed, Passerelle's
invitation). No Flask here beyond the app the caller built."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from clients.document_portal.documents.models import Document
from clients.document_portal.errors import ApiUnavailable
from clients.document_portal.issuing.services import (
    DocumentRequest,
    IssuingService,
    Staff,
)
from clients.document_portal.signing.demo_pki import make_demo_pki
from clients.document_portal.signing.transcript import Course, TranscriptData

DEMO_STAFF_SUB = "idp-demo"
CONTACT_EMAIL = "info@ecole-imaginaire.ca"
COURSES = (
    Course(code="FRA101", title="Littérature québécoise", grade="A", credits=Decimal(3), term="Automne 2025"),
    Course(code="MAT102", title="Calcul différentiel", grade="B+", credits=Decimal(3), term="Automne 2025"),
    Course(code="HIS110", title="Histoire du Canada", grade="A-", credits=Decimal(3), term="Hiver 2026"),
)


def write_demo_settings(pki_directory: Path, settings_file: Path, organization_number: str) -> None:
    """Make (or find) the demo PKI and write the TOML file naming the school's signer and the
    trust root (DOCUMENT_PORTAL_CONFIG). The PKCS#12's password stays in its own file."""
    pki = make_demo_pki(pki_directory)
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(
        "# Written by `python -m clients.document_portal demo pki` for make run (development only).\n"
        f"DOCUMENT_PORTAL_TRUST_ROOTS = [{json.dumps(str(pki.ca_certificate.resolve()))}]\n\n"
        f"[DOCUMENT_PORTAL_SIGNERS.{json.dumps(organization_number)}]\n"
        f"pkcs12 = {json.dumps(str(pki.school_pkcs12.resolve()))}\n"
        f"password_file = {json.dumps(str(pki.password_file.resolve()))}\n"
        'location = "Montréal (Québec)"\n',
        encoding="utf-8")


def issue_demo_document(service: IssuingService, staff: Staff, email: str, wait_seconds: float,
                        sleep: Callable[[float], None] = time.sleep) -> Document | None:
    """The demo user's transcript from the demo school, once (None when it exists already).
    Waits up to wait_seconds for Passerelle to start answering. The caller commits."""
    found = service.session.scalar(select(Document).where(
        Document.issuer_organization_id == staff.organization_id, Document.learner_email == email.lower()))
    if found is not None:
        return None
    transcript = TranscriptData(school_name=staff.organization_name_fr, learner_name="Dominique Demo",
                                program="Diplôme d'études collégiales — Sciences humaines", courses=COURSES,
                                issued_on=date.today(), learner_number="DEMO-0001")
    pdf = service.render(transcript, "fr")
    request = DocumentRequest(kind="transcript", title_fr="Relevé de notes", title_en="Transcript",
                              given_name="Dominique", family_name="Demo", email=email, locale="fr",
                              contact_email=CONTACT_EMAIL)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return service.issue(staff, request, pdf)
        except ApiUnavailable:
            if time.monotonic() >= deadline:
                raise
            service.session.rollback()
            sleep(1)
