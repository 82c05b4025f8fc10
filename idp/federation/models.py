"""What the broker keeps: the pending round trips to partners, and who is linked to whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class PartnerRequest(Base):
    """One authorization request sent to a partner, until its callback (single use).

    The browser carries only `state`, an opaque random value; its keyed hash finds this row,
    which says which sign-in (or which account linking) the answer belongs to. Nothing of
    the relying party travels to the partner (issue 5, The broker).
    """

    __tablename__ = "partner_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[str] = mapped_column(String(63))
    # The partner's issuer when the request left: a partner whose issuer the operator changes
    # meanwhile cannot answer an old request.
    issuer: Mapped[str] = mapped_column(String(2048))
    # OIDC Core §3.1.2.1 nonce and RFC 7636 code_verifier: needed again at the callback. They
    # protect one round trip of a few minutes, and the row is spent after it.
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    # A sign-in (the transaction of the browser that left) or a linking from the account home
    # (the session that asked): exactly one of the two.
    signin_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("signin_transactions.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PartnerLink(Base):
    """A Passerelle account is this person at this partner: the pair (issuer, subject) and
    nothing else the partner knows (issue 5: no personal attribute is stored)."""

    __tablename__ = "partner_links"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(2048))
    subject: Mapped[str] = mapped_column(String(255))  # OIDC Core §2: at most 255 ASCII characters
    # The partner's id in the partners file when linked, for the account page; the issuer is
    # what identifies the person.
    partner_id: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
