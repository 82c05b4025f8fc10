"""The invitations table: who is invited, how (link or code), by whom, and until when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class InvitationKind(StrEnum):
    LINK = "link"  # a "Sign up" button carrying a random token (seed 000)
    CODE = "code"  # a code the person types on the registration page (seed 001)


class InvitationState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


class CreatorKind(StrEnum):
    OPERATOR = "operator"  # `idp invitations create`
    CLIENT = "client"  # a relying party through POST /api/invitations
    # An organization invitation (idp/orgs): created_by_id is "<organization id>/operator:<name>"
    # or "<organization id>/user:<primary user's id>" (orgs.services.Inviter).
    ORGANIZATION = "organization"


class Invitation(Base):
    """One invitation to register, for one canonical address.

    The state is derived from stored times (state_at) rather than stored itself, so expiry
    needs no sweeper and cannot disagree with expires_at. The secret (link token or code) is
    kept only as a keyed hash (design.md, Data at rest); resending replaces it.
    """

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_email", "email"), Index("ix_invitations_client_id", "client_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The id relying parties see in the API: random, so one client cannot count or probe
    # the invitations of others the way sequential ids would let it.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(320))  # accounts.services.canonical_email
    kind: Mapped[str] = mapped_column(String(8))  # InvitationKind
    # HMAC of the link token (purpose "invitation-link") or of the normalised code
    # ("invitation-code"); unique so a lookup finds at most one invitation.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    given_name: Mapped[str | None] = mapped_column(String(200))  # prefills the registration form
    family_name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8))  # language of the invitation email
    inviter_name: Mapped[str] = mapped_column(String(200))  # "École Imaginaire", shown in the email
    purpose: Mapped[str | None] = mapped_column(String(500))  # why, one sentence in the email
    created_by_kind: Mapped[str] = mapped_column(String(16))  # CreatorKind
    created_by_id: Mapped[str] = mapped_column(String(200))  # client_id, or the operator's name
    # The relying party that invited, if any: the person goes to its initiate_login_uri after
    # registering. No foreign key: like tokens, invitations outlive a deleted client's row.
    client_id: Mapped[str | None] = mapped_column(String(64))
    accepted_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    send_count: Mapped[int] = mapped_column(Integer, default=0)
    # An invitation to join an organization (issue 11, idp/orgs): registering with it makes
    # the person a member with this role (MemberRole, "primary" or "secondary").
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    organization_role: Mapped[str | None] = mapped_column(String(16))
    # A document waiting for the person (issue 13, purpose "document" in the API): what the
    # email says about it ({"document_type": {"fr", "en", "gender"?}, "issuer_name": {"fr",
    # "en"}, "contact_email", "faq_url"?}) and where the person goes once signed in (on one
    # of the client's redirect URI origins, checked at creation).
    document: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    return_url: Mapped[str | None] = mapped_column(String(2000))
    # Whom a document invitation belongs to: the account the address had when it was
    # created, or whoever registers through its own link. Never set from the address later,
    # so it survives a change of address and cannot be captured by whoever registers the
    # address afterwards by another route.
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)

    @property
    def is_document(self) -> bool:
        return self.document is not None

    def state_at(self, now: datetime) -> InvitationState:
        """Accepted and revoked are final; otherwise pending until expires_at, then expired."""
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if now >= self.expires_at:
            return InvitationState.EXPIRED
        return InvitationState.PENDING
