"""Fixtures of the signing tests: the demo authority (and a second, foreign one), made once
per session in a temporary folder, with the school's credentials and a rendered transcript."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from clients.document_portal.signing.credentials import load_certificates, load_pkcs12
from clients.document_portal.signing.demo_pki import (
    issue_demo_certificate,
    load_demo_ca,
    make_demo_pki,
)
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


@pytest.fixture(scope="session")
def timestamp_authority(demo_pki):
    """A timestamp authority under the demo CA, answering in-process (pyHanko's test TSA,
    which signs with RSA only), whose certificate outlasts the school's as a TSA's does."""
    ca_cert, ca_key = load_demo_ca(demo_pki)
    key, cert = issue_demo_certificate(ca_cert, ca_key, "Horodatage de démonstration", timestamping=True,
                                       key=rsa.generate_private_key(65537, 2048), days=3000,
                                       clock=lambda: SIGNED_AT)
    key_info = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return DummyTimeStamper(tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
                            tsa_key=key_info, fixed_dt=SIGNED_AT + timedelta(seconds=2))
