"""Fixtures of the signing tests: the demo authority (and a second, foreign one), made once
per session in a temporary folder, with the school's credentials and a rendered transcript."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from clients.document_portal.signing.credentials import load_certificates, load_pkcs12
from clients.document_portal.signing.demo_pki import make_demo_pki
from clients.document_portal.signing.transcript import (
    Course,
    TranscriptData,
    render_transcript,
)
from tests.support import FrozenClock

SIGNED_AT = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_pki(tmp_path_factory):
    return make_demo_pki(tmp_path_factory.mktemp("demo-pki"), clock=lambda: SIGNED_AT)


@pytest.fixture(scope="session")
def foreign_pki(tmp_path_factory):
    """Another authority, with its own « École Imaginaire »: a look-alike the portal does not trust."""
    return make_demo_pki(tmp_path_factory.mktemp("foreign-pki"), clock=lambda: SIGNED_AT)


@pytest.fixture(scope="session")
def credentials(demo_pki):
    return load_pkcs12(demo_pki.school_pkcs12.read_bytes(), demo_pki.password())


@pytest.fixture(scope="session")
def trust_roots(demo_pki):
    return load_certificates(demo_pki.ca_certificate.read_bytes())


@pytest.fixture
def clock():
    return FrozenClock(SIGNED_AT)


@pytest.fixture(scope="session")
def transcript_data():
    return TranscriptData(
        school_name="École Imaginaire",
        learner_name="Zoé Citoyenne",
        learner_number="EI-2024-0042",
        program="DEC en sciences de la nature",
        courses=(
            Course("MAT-101", "Calcul différentiel", "A", Decimal("2.66"), "Automne 2024"),
            Course("PHY-101", "Mécanique", "B+", Decimal("2.66"), "Automne 2024"),
            Course("FRA-101", "Écriture et littérature", "A-", Decimal("2.33"), "Hiver 2025"),
        ),
        issued_on=date(2026, 12, 7),
        date_of_birth=date(2006, 5, 14),
        started_on=date(2024, 8, 26),
        completed_on=date(2026, 6, 5),
    )


@pytest.fixture(scope="session")
def transcript_pdf(transcript_data):
    return render_transcript(transcript_data, "fr")
