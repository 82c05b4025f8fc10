"""Organizations, their members and the requests to change who represents them (issue 11).

A designated learning institution (DLI, « EED ») or an issuing school has one primary user
and any number of secondary users (seed 001). Membership rows are never deleted: a member
who leaves is ended (state, ended_at), so who represented the institution when stays known.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class OrganizationKind(StrEnum):
    DLI = "dli"  # a designated learning institution (seed 001)
    ISSUER = "issuer"  # a school whose staff issue documents (seed 000)


class OrganizationState(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class MemberRole(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


class MembershipState(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"  # removed by an approved request, or a former primary who left


class RequestKind(StrEnum):
    CHANGE_PRIMARY = "change_primary"
    REMOVE_SECONDARY = "remove_secondary"


class FormerPrimaryBecomes(StrEnum):
    SECONDARY = "secondary"
    LEAVE = "leave"


class RequestState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Organization(Base):
    __tablename__ = "organizations"
    # A number names one institution of its kind: a DLI number and a school's number may
    # coincide, two DLIs may not.
    __table_args__ = (UniqueConstraint("kind", "number", name="uq_organizations_kind_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What relying parties and the CLI name it by: random, so ids cannot be counted.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # OrganizationKind
    number: Mapped[str] = mapped_column(String(32))  # "O123456789012" for a DLI
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default=OrganizationState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def name_in(self, locale: str | None) -> str:
        return self.name_en if locale == "en" else self.name_fr

    @property
    def is_active(self) -> bool:
        return self.state == OrganizationState.ACTIVE


_ACTIVE_PRIMARY = text("role = 'primary' AND state = 'active'")


class Membership(Base):
    """One person's place in one organization.

    Exactly one active primary per organization is the database's rule, not only the code's:
    a partial unique index (SQLite and PostgreSQL both have them), so two approvals racing
    cannot leave two primaries. One membership per person and organization, whatever its
    state: organization accounts are dedicated, so an ended member never comes back.
    """

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("organization_id", "user_id", name="uq_memberships_organization_id_user_id"),
        Index(
            "uq_memberships_one_active_primary",
            "organization_id",
            unique=True,
            sqlite_where=_ACTIVE_PRIMARY,
            postgresql_where=_ACTIVE_PRIMARY,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # MemberRole
    state: Mapped[str] = mapped_column(String(16), default=MembershipState.ACTIVE)
    # Who invited them: a primary user, or an operator by name (the invitation's creator).
    invited_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invited_by_operator: Mapped[str | None] = mapped_column(String(200))
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when the invitation was made
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        return self.state == MembershipState.ACTIVE


class ChangeRequest(Base):
    """An organization's request to change its primary user or remove a secondary user,
    decided by an operator. Deciding is one conditional UPDATE (pending -> decided), so of
    two operators deciding at once exactly one has an effect."""

    __tablename__ = "organization_requests"
    __table_args__ = (Index("ix_organization_requests_organization_id_state", "organization_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # RequestKind
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The member concerned: the secondary to remove, or the secondary who becomes primary.
    target_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    # change_primary to someone not yet a member: approval sends this address a primary
    # invitation, and the role moves when they register with it (invitation_id).
    new_email: Mapped[str | None] = mapped_column(String(320))
    new_locale: Mapped[str | None] = mapped_column(String(8))
    former_primary_becomes: Mapped[str | None] = mapped_column(String(16))  # FormerPrimaryBecomes
    reason: Mapped[str] = mapped_column(String(1000))
    state: Mapped[str] = mapped_column(String(16), default=RequestState.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(200))  # the operator's name
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id", ondelete="SET NULL"))


class OrganizationClient(Base):
    """An operator attached this organization to this relying party (`idp orgs attach`): the
    client's organizations API token (scope `organizations`) reaches it, and no other."""

    __tablename__ = "organization_clients"
    __table_args__ = (
        UniqueConstraint("organization_id", "client_id", name="uq_organization_clients_organization_id_client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # Deleting the client (`idp clients delete`) detaches it.
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id", ondelete="CASCADE"), index=True)
    attached_by: Mapped[str] = mapped_column(String(200))  # the operator's name
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
