"""« Vérifier un document » and the verification panel (issue 13): did this portal issue this
PDF, is it unaltered since signing, was it withdrawn?

Issued: the SHA-256 of the file, or of its signed revision (the file up to the end of the
bytes its signature covers, which signing.verification reports), is a document's `sha256`:
a file the portal issued and someone later appended to is still recognised, and reported
altered. Unaltered: the signature is intact, chains to a trusted authority and covers the
whole file (signing.verification). Withdrawn: the document found is withdrawn. No Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clients.document_portal.documents.models import Document
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

# The portal issues files that start with the header; anything else is not one of its PDFs.
PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class Verdict:
    """The answer for one PDF. `valid` is what a third party wants to know in one word."""

    document: Document | None
    signature: VerificationResult

    @property
    def issued(self) -> bool:
        return self.document is not None

    @property
    def signed(self) -> bool:
        return self.signature.signed

    @property
    def trusted(self) -> bool:
        return self.signature.signed and self.signature.trusted

    @property
    def unaltered(self) -> bool:
        """Signed, and nothing changed since: the signature matches and covers the whole file."""
        return self.signature.signed and self.signature.unaltered

    @property
    def withdrawn(self) -> bool:
        return self.document is not None and self.document.is_withdrawn

    @property
    def valid(self) -> bool:
        return self.issued and self.unaltered and self.trusted and not self.withdrawn

    @property
    def signed_at(self) -> datetime | None:
        """The attested time when a trusted timestamp carries one, else the signer's own."""
        stamp = self.signature.timestamp
        if stamp is not None and stamp.intact and stamp.trusted:
            return stamp.time
        return self.signature.signing_time


class VerifyService:
    def __init__(self, session: Session, verify_signature: Callable[[bytes], VerificationResult], max_bytes: int):
        self.session = session
        self.verify_signature = verify_signature
        self.max_bytes = max_bytes

    def verify_upload(self, data: bytes | None) -> Verdict:
        """Check an uploaded file. Raises NoFile, FileTooLarge, NotAPdf, UnreadablePdf."""
        if not data:
            raise NoFile
        if len(data) > self.max_bytes:
            raise FileTooLarge
        if not data.startswith(PDF_MAGIC):
            raise NotAPdf
        signature = self.verify_signature(data)
        if signature.status is VerificationStatus.UNREADABLE:
            raise UnreadablePdf
        digests = [digest for digest in (signature.file_sha256, signature.signed_revision_sha256) if digest]
        found = {document.sha256: document for document in self.session.scalars(
            select(Document).where(Document.sha256.in_(digests)))}
        document = next((found[digest] for digest in digests if digest in found), None)
        return Verdict(document=document, signature=signature)

    def verify_document(self, document: Document) -> Verdict:
        """Check a document the portal holds (the learner's panel, a share page)."""
        return Verdict(document=document, signature=self.verify_signature(document.pdf))
