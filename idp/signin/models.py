"""Sign-in transactions (one per sign-in) and the sessions they produce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class SigninTransaction(Base):
    """What was asked, who the person is once known, and which steps are done (design.md)."""

    __tablename__ = "signin_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Keyed hash of the random id the browser holds in its cookie.
    handle_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The validated authorization request (its parameters), or None for a local sign-in.
    authorization_request: Mapped[dict[str, str] | None] = mapped_column(JSON)
    return_to: Mapped[str | None] = mapped_column(String(2048))
    client_id: Mapped[str | None] = mapped_column(String(64))
    requested_acr: Mapped[str | None] = mapped_column(String(255))
    prompt: Mapped[str | None] = mapped_column(String(64))
    max_age: Mapped[int | None] = mapped_column(Integer)
    login_hint: Mapped[str | None] = mapped_column(String(320))
    # The language asked for with ui_locales, so every step of this sign-in speaks it.
    ui_locale: Mapped[str | None] = mapped_column(String(8))
    # Decided by the OIDC layer when the sign-in begins (prompt=consent, require_consent,
    # remembered consents); next_step() reads it, so views never re-decide it.
    needs_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # {"password": "2026-11-23T18:52:00+00:00", "consent": ...}: step name to completion time.
    steps_done: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The factor steps already done when the current handle was issued: a factor completed
    # since then gets the browser a new handle (SigninService.rotate_handle, issue 9).
    handle_steps: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserSession(Base):
    """A server-side session: the cookie holds only a random handle (ASVS 7.4.1)."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Public session id, the `sid` claim (OIDC Front/Back-Channel Logout); not a secret.
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime())
    amr: Mapped[list[str]] = mapped_column(JSON, default=list)
    acr: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(String(512))
