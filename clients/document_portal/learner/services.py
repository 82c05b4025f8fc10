"""A learner's documents: only those whose learner_sub is the signed-in person's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clients.document_portal.documents.models import Document
from clients.document_portal.learner.errors import DocumentNotFound


class LearnerDocuments:
    def __init__(self, session: Session):
        self.session = session

    def list(self, learner_sub: str) -> list[Document]:
        """The learner's documents, newest first (withdrawn ones included, marked as such)."""
        return list(self.session.scalars(select(Document).where(Document.learner_sub == learner_sub)
                                         .order_by(Document.issued_at.desc(), Document.id.desc())))

    def get(self, learner_sub: str, public_id: str) -> Document:
        """The learner's document with that public id. Raises DocumentNotFound, also when the
        id belongs to someone else."""
        document = self.session.scalar(select(Document).where(Document.public_id == public_id,
                                                              Document.learner_sub == learner_sub))
        if document is None:
            raise DocumentNotFound
        return document
