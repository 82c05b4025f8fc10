"""« Vérifier un document » without Flask: a PDF is the portal's when its SHA-256, or that of
its signed revision, is a document's; the verdict is valid only when issued, unaltered and not
withdrawn; empty, oversized and non-PDF files are refused."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import clients.document_portal.models  # noqa: F401
from clients.document_portal.db import Base
from clients.document_portal.documents.models import WITHDRAWN
from clients.document_portal.signing.verification import (
    VerificationResult,
    VerificationStatus,
)
from clients.document_portal.verify.errors import (
    FileTooLarge,
    NoFile,
    NotAPdf,
    UnreadablePdf,
)
from clients.document_portal.verify.services import VerifyService
from tests.support import FrozenClock
from tests.unit.document_portal.test_shares import add_document

ISSUED = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
UPDATE = b"2 0 obj<</Annot 1>>endobj\nxref\ntrailer<</Prev 9>>\n%%EOF\n"


def result(data: bytes, status=VerificationStatus.VALID, *, revision: bytes | None = None, **fields) -> VerificationResult:
    """What signing.verification says of a file signed by the demo school, as the tests need."""
    values = {"signed": True, "intact": True, "covers_whole_file": True, "trusted": True,
              "signer_name": "École Imaginaire", "chain": ("École Imaginaire", "Autorité de démonstration"),
              "signed_revision_sha256": hashlib.sha256(revision if revision is not None else data).hexdigest()}
    values.update(fields)
    return VerificationResult(status, hashlib.sha256(data).hexdigest(), **values)


@pytest.fixture
def session(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def service(session, max_bytes=1024 * 1024, **fields):
    return VerifyService(session, lambda data: result(data, **fields), max_bytes)


def issue(session, data=ISSUED, **fields):
    document = add_document(session, FrozenClock(), **fields)
    document.pdf, document.sha256 = data, hashlib.sha256(data).hexdigest()
    session.flush()
    return document


def test_the_file_as_issued_is_valid(session):
    document = issue(session)
    verdict = service(session).verify_upload(ISSUED)
    assert verdict.document is document and verdict.valid


def test_a_later_revision_of_an_issued_file_is_found_but_not_unaltered(session):
    document = issue(session)
    later = ISSUED + UPDATE
    verdict = service(session, status=VerificationStatus.MODIFIED, revision=ISSUED,
                      covers_whole_file=False).verify_upload(later)
    assert verdict.document is document
    assert verdict.issued and not verdict.unaltered and not verdict.valid


def test_a_tampered_file_is_altered_and_not_issued(session):
    issue(session)
    tampered = ISSUED.replace(b"<<>>", b"<<!>>", 1)
    verdict = service(session, status=VerificationStatus.ALTERED, intact=False,
                      signed_revision_sha256=None).verify_upload(tampered)
    assert not verdict.issued and not verdict.unaltered and not verdict.valid


def test_a_pdf_signed_by_another_authority_is_neither_issued_nor_trusted(session):
    issue(session)
    verdict = service(session, status=VerificationStatus.UNTRUSTED, trusted=False).verify_upload(b"%PDF-1.7 other\n%%EOF\n")
    assert not verdict.issued and not verdict.trusted and not verdict.valid


def test_a_withdrawn_document_is_reported_withdrawn(session):
    document = issue(session)
    document.state = WITHDRAWN
    verdict = service(session).verify_upload(ISSUED)
    assert verdict.issued and verdict.unaltered and verdict.withdrawn and not verdict.valid


@pytest.mark.parametrize(("data", "error"), [(b"", NoFile), (None, NoFile), (b"PK\x03\x04zip", NotAPdf),
                                             (b"<html>%PDF-" + b" " * 2000, NotAPdf)])
def test_empty_and_non_pdf_files_are_refused(session, data, error):
    with pytest.raises(error):
        service(session).verify_upload(data)


def test_a_file_over_the_limit_is_refused(session):
    with pytest.raises(FileTooLarge):
        service(session, max_bytes=100).verify_upload(b"%PDF-" + b"0" * 100)


def test_a_damaged_or_encrypted_pdf_is_unreadable(session):
    unreadable = VerifyService(session, lambda data: VerificationResult(VerificationStatus.UNREADABLE, "0" * 64), 1024)
    with pytest.raises(UnreadablePdf):
        unreadable.verify_upload(b"%PDF-1.7 garbage")
