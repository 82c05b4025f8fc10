"""« Vérifier un document » and the verification panel (issue 13): did this portal issue this
PDF, is it unaltered since signing, was it withdrawn?

Issued: the SHA-256 of the file, or of one of its revisions, is a document's `sha256`. A PDF
grows by incremental updates appended after a %%EOF; the signed file as issued is therefore a
prefix of any later revision of it, ending at one of its %%EOF markers. Unaltered: the
signature check (clients/document_portal/signing) finds the signature intact and chained to
a trusted authority, and nothing was added after the signed revision. Withdrawn: the document
found is in state withdrawn. No Flask here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from clients.document_portal.documents.models import Document
from clients.document_portal.verify.errors import FileTooLarge, NoFile, NotAPdf

# The portal issues files that start with the header; anything else is not one of its PDFs.
PDF_MAGIC = b"%PDF-"
MAX_REVISIONS = 64


class SignatureCheck(Protocol):
    """What the signature check says about a PDF's signature (an adapter over signing/)."""

    signed: bool  # the file carries a signature at all
    intact: bool  # the signed bytes are unchanged (digest and signature valid)
    trusted: bool  # the signer's certificate chains to an authority the portal trusts
    covers_whole_file: bool  # nothing was appended after the signed revision
    signer: str | None  # the signer's name (its certificate's subject common name)
    signed_at: datetime | None  # the signing time (the timestamp's when there is one)
    chain: tuple[str, ...]  # subject names from the signer up to the root


@dataclass(frozen=True)
class Verdict:
    """The answer for one PDF. `valid` is what a third party wants to know in one word."""

    document: Document | None
    exact_copy: bool
    signature: SignatureCheck | None

    @property
    def issued(self) -> bool:
        return self.document is not None

    @property
    def unaltered(self) -> bool:
        check = self.signature
        return bool(check and check.signed and check.intact and check.trusted
                    and (self.exact_copy or check.covers_whole_file))

    @property
    def withdrawn(self) -> bool:
        return self.document is not None and self.document.is_withdrawn

    @property
    def valid(self) -> bool:
        return self.issued and self.unaltered and not self.withdrawn


def revision_digests(data: bytes) -> list[str]:
    """SHA-256 of the whole file and of every prefix that ends a revision (%%EOF and its line
    end), most recent first."""
    digests = [hashlib.sha256(data).hexdigest()]
    position = len(data)
    for _ in range(MAX_REVISIONS):
        position = data.rfind(b"%%EOF", 0, position)
        if position < 0:
            break
        end = position + len(b"%%EOF")
        for tail in (b"", b"\r\n", b"\n", b"\r"):
            if data.startswith(tail, end):
                digests.append(hashlib.sha256(data[:end + len(tail)]).hexdigest())
    return list(dict.fromkeys(digests))


class VerifyService:
    def __init__(self, session: Session, check_signature: Callable[[bytes], SignatureCheck], max_bytes: int):
        self.session = session
        self.check_signature = check_signature
        self.max_bytes = max_bytes

    def verify_upload(self, data: bytes | None) -> Verdict:
        """Check an uploaded file. Raises NoFile, FileTooLarge, NotAPdf."""
        if not data:
            raise NoFile
        if len(data) > self.max_bytes:
            raise FileTooLarge
        if not data.startswith(PDF_MAGIC):
            raise NotAPdf
        digests = revision_digests(data)
        found = {document.sha256: document for document in self.session.scalars(
            select(Document).where(Document.sha256.in_(digests)))}
        document = next((found[digest] for digest in digests if digest in found), None)
        exact = document is not None and document.sha256 == digests[0]
        return Verdict(document=document, exact_copy=exact, signature=self._check(data))

    def verify_document(self, document: Document) -> Verdict:
        """Check a document the portal holds (the learner's panel, a share page)."""
        return Verdict(document=document, exact_copy=True, signature=self._check(document.pdf))

    def _check(self, data: bytes) -> SignatureCheck:
        try:
            return self.check_signature(data)
        except ValueError as error:
            raise NotAPdf from error
