"""PAdES signing and verification against the demo authority (pyHanko, no network): a signed
transcript verifies; a tampered byte, a foreign authority, a missing signature and an update
appended after signing are each reported; B-T timestamps are checked and attested."""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta
from io import BytesIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from clients.document_portal.signing.credentials import (
    load_certificates,
    load_pem,
    load_pkcs12,
)
from clients.document_portal.signing.demo_pki import (
    issue_demo_certificate,
    load_demo_ca,
)
from clients.document_portal.signing.errors import TimestampUnavailable
from clients.document_portal.signing.pades import make_timestamper, sign_pdf
from clients.document_portal.signing.verification import VerificationStatus, verify
from tests.unit.document_portal.signing.conftest import SIGNED_AT
from tests.unit.document_portal.signing.pdfs import encrypted_pdf

REASON = "Relevé de notes délivré par École Imaginaire"


@pytest.fixture
def signed(transcript_pdf, credentials, clock):
    return sign_pdf(transcript_pdf, credentials, reason=REASON, location="Montréal (Québec)",
                    contact="info@ecole-imaginaire.ca", clock=clock)


def test_a_signed_transcript_verifies_against_the_demo_authority(signed, transcript_pdf, trust_roots):
    result = verify(signed, trust_roots, at=SIGNED_AT)
    assert result.status is VerificationStatus.VALID and result.is_valid
    assert result.signed and result.intact and result.covers_whole_file and result.trusted and result.unaltered
    assert result.signer_name == "École Imaginaire" and result.signer_organization == "École Imaginaire"
    assert result.signing_time == SIGNED_AT and result.timestamp is None
    assert result.signed_at == SIGNED_AT and result.signer == "École Imaginaire"
    assert result.chain == ("École Imaginaire", "Autorité de démonstration du portail de documents")
    assert result.signed_revision_sha256 == result.file_sha256 == hashlib.sha256(signed).hexdigest()
    assert signed.startswith(transcript_pdf)  # an incremental update: the school's bytes are kept


def test_the_signature_dictionary_names_the_signer_reason_and_location(signed):
    signature = PdfFileReader(BytesIO(signed)).embedded_signatures[0].sig_object
    assert signature["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert signature["/Name"] == "École Imaginaire" and signature["/Reason"] == REASON
    assert signature["/Location"] == "Montréal (Québec)" and signature["/ContactInfo"] == "info@ecole-imaginaire.ca"


def test_a_tampered_byte_is_reported_altered(signed, trust_roots):
    position = signed.index(b"Zo")  # in the document's title, inside the signed bytes
    tampered = signed[:position] + b"X" + signed[position + 1:]
    result = verify(tampered, trust_roots, at=SIGNED_AT)
    assert result.status is VerificationStatus.ALTERED and not result.intact and not result.is_valid
    assert result.signed_revision_sha256 != hashlib.sha256(signed).hexdigest()


def test_no_single_changed_byte_in_the_signed_ranges_verifies(signed, trust_roots):
    reader = PdfFileReader(BytesIO(signed))
    start1, length1, start2, length2 = reader.embedded_signatures[0].byte_range
    positions = [*range(start1, start1 + length1, max(1, length1 // 12)),
                 *range(start2, start2 + length2, max(1, length2 // 12))]
    for position in positions:
        tampered = signed[:position] + bytes([signed[position] ^ 0x01]) + signed[position + 1:]
        result = verify(tampered, trust_roots, at=SIGNED_AT)
        assert not result.is_valid, position
        assert result.status in (VerificationStatus.ALTERED, VerificationStatus.UNREADABLE,
                                 VerificationStatus.UNSIGNED), position


def test_a_pdf_signed_by_another_authority_is_not_trusted(transcript_pdf, foreign_pki, trust_roots, clock):
    impostor = load_pkcs12(foreign_pki.school_pkcs12.read_bytes(), foreign_pki.password())
    signed = sign_pdf(transcript_pdf, impostor, reason=REASON, clock=clock)
    result = verify(signed, trust_roots, at=SIGNED_AT)
    assert result.status is VerificationStatus.UNTRUSTED and not result.trusted and not result.is_valid
    assert result.intact and result.signer_name == "École Imaginaire"  # the look-alike name proves nothing
    assert result.chain == ("École Imaginaire",)
    assert verify(signed, load_certificates(foreign_pki.ca_certificate.read_bytes()), at=SIGNED_AT).is_valid


def test_no_trust_roots_trusts_nothing(signed):
    assert verify(signed, [], at=SIGNED_AT).status is VerificationStatus.UNTRUSTED


def test_an_unsigned_pdf_is_reported_unsigned(transcript_pdf, trust_roots):
    result = verify(transcript_pdf, trust_roots)
    assert result.status is VerificationStatus.UNSIGNED and not result.signed and not result.is_valid
    assert result.file_sha256 == hashlib.sha256(transcript_pdf).hexdigest()


@pytest.mark.parametrize("data", [b"", b"not a pdf", b"%PDF-1.7\n garbage", b"\x89PNG\r\n\x1a\n" + bytes(64)])
def test_unreadable_files_are_reported_never_raised(data, trust_roots):
    assert verify(data, trust_roots).status is VerificationStatus.UNREADABLE


def test_an_incremental_update_after_signing_is_detected(signed, trust_roots):
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.set_info(generic.DictionaryObject({generic.NameObject("/Title"): generic.TextStringObject("Rewritten")}))
    writer.update_root()
    updated = BytesIO()
    writer.write(updated)
    result = verify(updated.getvalue(), trust_roots, at=SIGNED_AT)
    assert result.status is VerificationStatus.MODIFIED and not result.is_valid
    assert result.intact and result.trusted and not result.covers_whole_file and not result.unaltered
    # The signed part is still recognisable: the issued file's sha256 is that of the signed revision.
    assert result.signed_revision_sha256 == hashlib.sha256(signed).hexdigest() != result.file_sha256


def test_a_signature_appended_by_someone_else_is_the_one_judged(signed, foreign_pki, trust_roots, clock):
    other = load_pkcs12(foreign_pki.school_pkcs12.read_bytes(), foreign_pki.password())
    countersigned = sign_pdf(signed, other, reason="Reçu", clock=clock)
    result = verify(countersigned, trust_roots, at=SIGNED_AT)
    assert result.signature_count == 2 and result.status is VerificationStatus.UNTRUSTED


def test_a_timestamped_signature_carries_a_trusted_timestamp(transcript_pdf, credentials, clock,
                                                             timestamp_authority, trust_roots):
    signed = sign_pdf(transcript_pdf, credentials, reason=REASON, timestamper=timestamp_authority, clock=clock)
    result = verify(signed, trust_roots, at=SIGNED_AT)
    assert result.is_valid and result.timestamp is not None
    assert result.timestamp.time == SIGNED_AT + timedelta(seconds=2)
    assert result.timestamp.trusted and result.timestamp.intact
    assert result.timestamp.authority == "Horodatage de démonstration"
    assert result.signed_at == result.timestamp.time and result.signing_time == SIGNED_AT  # attested beats stated


def test_a_timestamp_from_an_untrusted_authority_is_reported(transcript_pdf, credentials, clock, timestamp_authority,
                                                             trust_roots, foreign_pki):
    signed = sign_pdf(transcript_pdf, credentials, reason=REASON, timestamper=timestamp_authority, clock=clock)
    foreign_roots = load_certificates(foreign_pki.ca_certificate.read_bytes())
    result = verify(signed, trust_roots, timestamp_trust_roots=foreign_roots, at=SIGNED_AT)
    assert result.timestamp is not None and not result.timestamp.trusted and result.timestamp.intact
    assert result.signed_at == SIGNED_AT  # an unverified timestamp attests nothing
    assert result.trusted


def test_a_trusted_timestamp_keeps_a_signature_valid_after_the_certificate_expires(
        transcript_pdf, credentials, clock, timestamp_authority, trust_roots):
    later = SIGNED_AT + timedelta(days=6 * 365)  # the school's certificate lasts five years, the CA ten
    plain = sign_pdf(transcript_pdf, credentials, reason=REASON, clock=clock)
    assert verify(plain, trust_roots, at=later).status is VerificationStatus.UNTRUSTED
    stamped = sign_pdf(transcript_pdf, credentials, reason=REASON, timestamper=timestamp_authority, clock=clock)
    assert verify(stamped, trust_roots, at=later).is_valid


def test_an_unreachable_timestamp_authority_refuses_to_sign(transcript_pdf, credentials, clock):
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TimestampUnavailable):
        sign_pdf(transcript_pdf, credentials, reason=REASON, clock=clock,
                 timestamper=make_timestamper(f"http://127.0.0.1:{port}/tsa", timeout=2))


def test_without_a_timestamp_authority_there_is_no_timestamper():
    assert make_timestamper(None) is None and make_timestamper("") is None


def test_an_rsa_certificate_from_pem_signs_and_verifies(demo_pki, transcript_pdf, trust_roots, clock):
    ca_cert, ca_key = load_demo_ca(demo_pki)
    key, cert = issue_demo_certificate(ca_cert, ca_key, "Collège Exemple", key=rsa.generate_private_key(65537, 2048),
                                       clock=lambda: SIGNED_AT)
    credentials = load_pem(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.BestAvailableEncryption(b"pem-password")),
        cert.public_bytes(serialization.Encoding.PEM), "pem-password",
        ca_cert.public_bytes(serialization.Encoding.PEM))
    result = verify(sign_pdf(transcript_pdf, credentials, reason=REASON, clock=clock), trust_roots, at=SIGNED_AT)
    assert result.is_valid and result.signer_name == "Collège Exemple"


def test_an_encrypted_pdf_is_unreadable_to_verification(trust_roots):
    assert verify(encrypted_pdf("learner-secret"), trust_roots).status is VerificationStatus.UNREADABLE


def test_one_timestamp_client_serves_every_signature_of_a_process():
    # It keeps the authority's first answer to size later signatures without asking again.
    assert make_timestamper("https://tsa.example/rfc3161", 10) is make_timestamper("https://tsa.example/rfc3161", 10)
