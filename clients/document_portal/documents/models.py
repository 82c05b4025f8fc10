"""An issued document: the signed PDF a school gave one learner, and whom it reached.

The learner is known first only by the names and address the school typed; Passerelle's
invitation (invitation_id) carries the document to the person, and learner_sub is filled at
the first sign-in where Passerelle lists that invitation as bound to the person. The portal
never binds by email address: an address can change hands, an invitation cannot.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clients.document_portal.db import Base, UTCDateTime

KINDS = ("transcript", "diploma", "attestation")
STATES = ("issued", "withdrawn")
ISSUED, WITHDRAWN = STATES


def new_public_id() -> str:
    """192 random bits, URL-safe (32 characters): a document's id in every URL."""
    return secrets.token_urlsafe(24)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("kind IN ('transcript', 'diploma', 'attestation')", name="kind"),
        CheckConstraint("state IN ('issued', 'withdrawn')", name="state"),
        Index("ix_documents_issuer_issued_at", "issuer_organization_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_public_id)
    # The issuing school: Passerelle's public id of the organization (kind issuer) and its
    # names at the time of issue (as the document shows them).
    issuer_organization_id: Mapped[str] = mapped_column(String(64))
    issuer_name_fr: Mapped[str] = mapped_column(String(300))
    issuer_name_en: Mapped[str] = mapped_column(String(300))
    # Where the learner may write with questions (the invitation email gives it).
    contact_email: Mapped[str] = mapped_column(String(254))
    # transcript | diploma | attestation, and the document's own title in both languages
    # (« Relevé de notes » / "Transcript", « Baccalauréat en … » / "Bachelor of …").
    kind: Mapped[str] = mapped_column(String(20))
    title_fr: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    # The learner as the school issued it (the invitation's greeting; never used to bind).
    learner_given_name: Mapped[str] = mapped_column(String(100))
    learner_family_name: Mapped[str] = mapped_column(String(100))
    learner_email: Mapped[str] = mapped_column(String(254))
    learner_locale: Mapped[str] = mapped_column(String(5), default="fr")
    # Passerelle's invitation that carries the document to the learner (null until
    # Passerelle accepted it), and Passerelle's sub of the learner for this client once the
    # invitation is bound to them (null until then).
    invitation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    learner_sub: Mapped[str | None] = mapped_column(String(255), index=True)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The signed PDF exactly as issued, and its SHA-256 (hex; the verify page's lookup).
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by_sub: Mapped[str] = mapped_column(String(255))
    # issued | withdrawn; a withdrawal keeps the PDF (verification reports it withdrawn).
    state: Mapped[str] = mapped_column(String(20), default=ISSUED)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_sub: Mapped[str | None] = mapped_column(String(255))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def is_withdrawn(self) -> bool:
        return self.state == WITHDRAWN

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_fr

    def issuer_name(self, locale: str) -> str:
        return self.issuer_name_en if locale == "en" else self.issuer_name_fr
