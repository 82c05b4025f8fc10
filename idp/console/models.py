"""Console roles held by accounts (issue 16)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class AccountRole(Base):
    """One console role of one account: `operator` or `service_desk` (idp.console.roles).

    Granted and revoked only with `idp users grant|revoke` on the server, never from the
    console, so an agent cannot raise their own or anybody's rights.
    """

    __tablename__ = "account_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsoleKeyUse(Base):
    """A security-key use (one IdP session: each step-up makes a new one) that confirmed a
    destructive console action. One row per session, so a key touch confirms one action,
    whatever cookie is replayed and however many requests race (the unique constraint)."""

    __tablename__ = "console_key_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), unique=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsoleSecretDisplay(Base):
    """A secret made by a console POST (a new relying party's secret, a rotated secret, an
    initial access token), held encrypted until the one page that shows it (the GET the POST
    redirects to), for the IdP session that made it only; the first read wipes it
    (idp.console.shown_once). A rotation's or a token's row also keeps the one-time id of the
    form that made it (`form_id`, unique), so that the same form sent again makes nothing."""

    __tablename__ = "console_secret_displays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    initial_token_pk: Mapped[int | None] = mapped_column(
        ForeignKey("initial_access_tokens.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # SecretBox (KEYS_ENCRYPTION_KEY); None once read or after HOLD_FOR
    secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
