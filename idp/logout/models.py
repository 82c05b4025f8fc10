"""The relying parties each session signed into, and the back-channel logout outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class SessionClient(Base):
    """A relying party got a code from this session: it holds ID tokens carrying `sid`, so it
    is told when the session ends. A session that replaced the same person's earlier one
    (a new sign-in, a step-up) takes these rows over, keeping the sid the client knows."""

    __tablename__ = "session_clients"
    __table_args__ = (UniqueConstraint("session_id", "client_id", "sid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    # The `sid` of the ID tokens this client received (the session's, or the one it replaced).
    sid: Mapped[str] = mapped_column(String(64))
    signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeliveryState(StrEnum):
    QUEUED = "queued"  # waiting for its first attempt or a retry
    DELIVERED = "delivered"  # the relying party answered 2xx
    FAILED = "failed"  # refused (4xx, a redirect) or out of attempts: given up


class LogoutDelivery(Base):
    """One logout token to POST to one client's backchannel_logout_uri. `idp worker` sends
    it (never the request that ended the session); each attempt is a LogoutAttempt."""

    __tablename__ = "logout_deliveries"
    __table_args__ = (Index("ix_logout_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    uri: Mapped[str] = mapped_column(String(2048))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The token's claims, fixed when queued: the subject this client knows and the sid.
    subject: Mapped[str] = mapped_column(String(255))
    sid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Also the lease of a worker that claimed the row: nobody else sends it before then.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.QUEUED,
                                       server_default=DeliveryState.QUEUED.value)
    last_status: Mapped[int | None] = mapped_column(Integer)  # HTTP status of the last attempt
    last_error: Mapped[str | None] = mapped_column(String(255))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LogoutAttempt(Base):
    """One POST of a logout token: when, what came back, and what was decided."""

    __tablename__ = "logout_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("logout_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[int | None] = mapped_column(Integer)  # None: no HTTP answer (timeout, refused)
    error: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))  # delivered, retry or failed
    duration_ms: Mapped[int] = mapped_column(Integer)
