"""Second-factor secrets at rest: emailed codes, authenticator apps, recovery codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String
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


class WebAuthnCredential(Base):
    """A security key or passkey (WebAuthn) registered to an account; a person may have
    several, each with a nickname they recognise.

    The public key is not a secret (it verifies, it cannot sign), so it is stored as is.
    sign_count is the authenticator's last signature counter: one that does not move forward
    is refused (WebAuthn Level 2 §6.1.1, a cloned key). backup_eligible marks a synced
    passkey (its private key lives in a cloud account): amr "swk" rather than "hwk".
    """

    __tablename__ = "webauthn_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)  # §5.8.3: at most 1023 bytes
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    nickname: Mapped[str] = mapped_column(String(64))
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    backup_state: Mapped[bool] = mapped_column(Boolean, default=False)
    aaguid: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebAuthnChallenge(Base):
    """A challenge sent to the browser for one ceremony, kept server-side (design.md, State).

    Single use: it is spent by a conditional UPDATE (used_at still empty, not expired), so
    a replayed response, or two racing ones, spend it once. A sign-in's challenge belongs to
    that sign-in (ASVS 6.6.2).
    """

    __tablename__ = "webauthn_challenges"
    __table_args__ = (Index("ix_webauthn_challenges_user_id_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    signin_transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("signin_transactions.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))  # "register" or "authenticate"
    challenge: Mapped[bytes] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
