"""Password reset links: one row per link sent, holding only the keyed hash of its token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class PasswordReset(Base):
    """A reset link: valid until expires_at, spent once (used_at), or replaced (revoked_at).

    The plain token exists only in the email; a database dump cannot be replayed (design.md,
    Data at rest). The address it was sent to is kept so a link stops working if the
    account's address changes meanwhile (keycloak/keycloak PR #7985).
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when a newer link, a completed reset or a password change made this one void.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
