"""People who sign in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random, stable, never reused: the public `sub` for clients that ask for public subjects.
    subject: Mapped[str] = mapped_column(String(64), unique=True)
    # Canonical form (see accounts.services.canonical_email): one account per address.
    # None for an account made by a sign-in partner (issue 5): Passerelle stores no address
    # the partner knows, and never mails such an account.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    phone_number: Mapped[str | None] = mapped_column(String(32))  # E.164
    phone_number_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # OIDC Core §5.1.1 members
    locale: Mapped[str | None] = mapped_column(String(8))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # None while a registration waits for the person to prove the address and finish (issue 3,
    # idp/registration): such a pending account cannot sign in. Accounts made any other way
    # (operators, the demo) are active from creation.
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Sign-in failures (wrong passwords and emailed codes) since the last complete sign-in,
    # and the refusal they cause: idp/accounts/throttle.py (issue 3, Abuse resistance).
    failed_signin_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_signin_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Attempts before this time are refused unchecked: a few seconds after repeated
    # failures (progressive delay), SIGNIN_LOCK_DURATION once the lock threshold is reached.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Temporary locks since the last complete sign-in (issue 9): after SIGNIN_TEMPORARY_LOCKS
    # of them the next lock lasts until the emailed unlock link or an operator ends it, and
    # unlock_required_at says since when.
    signin_lock_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unlock_required_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Password checks under way (issue 10): each is counted here before its argon2id hash
    # runs, with no lock held, and settled after it; the throttle treats them as failures
    # until then. Forgotten PENDING_ATTEMPT_TTL after the latest began (a request that died).
    signin_attempts_pending: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    signin_attempt_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Two-factor set-up (issue 4): when the person finished their first enrolment and got
    # recovery codes. Until then the emailed code is the only second step (it proves the
    # address registration verified), and MFA_REQUIRED sends them to the set-up page.
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The emailed code chosen as a two-factor method (not only used before set-up).
    email_code_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The factor name (idp.mfa) asked for first at sign-in; None: the strongest enrolled.
    mfa_default_factor: Mapped[str | None] = mapped_column(String(32))

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def is_active(self) -> bool:
        """May sign in: activated and not disabled."""
        return self.disabled_at is None and self.activated_at is not None

    @property
    def is_pending(self) -> bool:
        """Registered but not activated yet (and not disabled): "can't sign in?" resends its
        activation email (RegistrationService.resend_activation)."""
        return self.disabled_at is None and self.activated_at is None


class UnlockLink(Base):
    """An emailed link that ends a lock only an unlock can end (idp/accounts/unlock.py).

    Like a password reset link (idp/recovery/models.py): only the keyed hash of its token is
    stored, it works until expires_at, once (used_at), and a newer link replaces it
    (revoked_at). It unlocks; it never signs anybody in.
    """

    __tablename__ = "unlock_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address it was sent to: the link stops working if the account's address changes.
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
