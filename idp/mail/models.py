"""The outbox: one row per message, from queued to sent, failed (a dead letter) or expired."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class OutboxState(StrEnum):
    QUEUED = "queued"  # waiting for its first attempt or a retry
    SENT = "sent"  # the relay took it
    FAILED = "failed"  # a dead letter: refused for good (5xx), or out of attempts
    EXPIRED = "expired"  # its code's lifetime ended before it could be sent: dropped
    DISCARDED = "discarded"  # an operator gave it up from the console: never sent


class OutboxMessage(Base):
    """A message to send. Its context often holds a code or a link, so it is encrypted at
    rest and erased once the message is sent; the rest stays for the sending caps."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_to_address_created_at", "to_address", "created_at"),
        Index("ix_mail_outbox_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    template: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    # Fernet token of the JSON context; None once sent.
    context_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Also the lease of a sender that claimed the row: nobody else sends it before then.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.QUEUED, server_default=OutboxState.QUEUED.value)
    # RFC 5322 §3.6.4, chosen when queued: a retry of a message the relay may have half taken
    # is the same message, so the receiving side can tell a duplicate.
    message_id: Mapped[str | None] = mapped_column(String(255))
    # A message carrying a short-lived code is worthless once the code expires: not sent after.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Dead letters: when and why the message was given up (the SMTP reply code, if any).
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    smtp_code: Mapped[int | None] = mapped_column(Integer)
