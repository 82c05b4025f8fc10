"""Second-factor secrets at rest: emailed codes, authenticator apps, recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
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


class TotpAuthenticator(Base):
    """A person's authenticator app (issue 4): one per account.

    The shared secret is encrypted with KEYS_ENCRYPTION_KEY (a keyed hash would not do: the
    server must compute codes from it). confirmed_at stays None until the person typed a
    current code, and only a confirmed authenticator signs anyone in. last_used_step is the
    RFC 6238 time step of the last accepted code: a code is accepted once (§5.2).
    """

    __tablename__ = "totp_authenticators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RecoveryCode(Base):
    """One single-use recovery code (issue 4, seed 002), stored as a keyed hash.

    A new set replaces the old one: generating burns every unused code of the account.
    """

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_id_used_at", "user_id", "used_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
