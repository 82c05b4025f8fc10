"""« Vérifier un document » without Flask: a PDF is the portal's when its SHA-256, or that of
its signed revision, is a document's; the verdict is valid only when issued, unaltered and not
withdrawn; empty, oversized and non-PDF files are refused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import clients.document_portal.models  # noqa: F401
from clients.document_portal.db import Base
from clients.document_portal.documents.models import WITHDRAWN
from clients.document_portal.verify.errors import FileTooLarge, NoFile, NotAPdf
from clients.document_portal.verify.services import VerifyService, revision_digests
from tests.support import FrozenClock
from tests.unit.document_portal.test_shares import add_document

ISSUED = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
UPDATE = b"2 0 obj<</Annot 1>>endobj\nxref\ntrailer<</Prev 9>>\n%%EOF\n"


@dataclass
class FakeCheck:
    signed: bool = True
    intact: bool = True
    trusted: bool = True
    covers_whole_file: bool = True
    signer: str | None = "École Imaginaire"
    signed_at: datetime | None = None
    chain: tuple[str, ...] = field(default=("École Imaginaire", "Autorité de démonstration"))


@pytest.fixture
def session(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def service(session, check=None, max_bytes=1024 * 1024):
    return VerifyService(session, lambda data: check or FakeCheck(), max_bytes)


def issue(session, data=ISSUED, **fields):
    document = add_document(session, FrozenClock(), **fields)
    document.pdf, document.sha256 = data, hashlib.sha256(data).hexdigest()
    session.flush()
    return document


def test_the_file_as_issued_is_valid(session):
    document = issue(session)
    verdict = service(session).verify_upload(ISSUED)
    assert verdict.document is document and verdict.exact_copy and verdict.valid


def test_a_later_revision_of_an_issued_file_is_found_but_not_unaltered(session):
    document = issue(session)
    later = ISSUED + UPDATE
    assert hashlib.sha256(ISSUED).hexdigest() in revision_digests(later)
    verdict = service(session, FakeCheck(covers_whole_file=False)).verify_upload(later)
    assert verdict.document is document and not verdict.exact_copy
    assert verdict.issued and not verdict.unaltered and not verdict.valid


def test_a_tampered_file_is_altered_and_not_issued(session):
    issue(session)
    tampered = ISSUED.replace(b"<<>>", b"<<!>>", 1)
    verdict = service(session, FakeCheck(intact=False)).verify_upload(tampered)
    assert not verdict.issued and not verdict.unaltered and not verdict.valid


def test_a_pdf_signed_by_another_authority_is_neither_issued_nor_trusted(session):
    issue(session)
    verdict = service(session, FakeCheck(trusted=False)).verify_upload(b"%PDF-1.7 other\n%%EOF\n")
    assert not verdict.issued and not verdict.unaltered


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


def test_an_unreadable_pdf_is_not_a_pdf(session):
    def unreadable(data):
        raise ValueError("no xref")

    with pytest.raises(NotAPdf):
        VerifyService(session, unreadable, 1024).verify_upload(b"%PDF-1.7 garbage")
