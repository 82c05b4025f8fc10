"""Second-factor secrets at rest. Issue 4 adds TOTP secrets, WebAuthn credentials and
recovery codes here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class EmailCode(Base):
    """A 6-digit code sent by email for one sign-in (issue 3, seed 001).

    Only its keyed hash is stored (design.md, Data at rest). It is live while unburned and
    unexpired; burned_at is set when it is used, replaced by a newer code, or out of attempts.
    """

    __tablename__ = "email_codes"
    __table_args__ = (Index("ix_email_codes_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The sign-in it was sent for: a code works only there (ASVS 6.6.2, MFA-03).
    signin_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("signin_transactions.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    burned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
