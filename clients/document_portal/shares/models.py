"""Share links and the per-address counters that slow down link guessing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clients.document_portal.db import Base, UTCDateTime


class Share(Base):
    """A link through which anyone holding it (and the access code, if set) sees one document
    until expires_at. Only keyed hashes of the link's token and of the code are stored."""

    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    learner_sub: Mapped[str] = mapped_column(String(255), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_code_count: Mapped[int] = mapped_column(Integer, default=0)
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    last_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def has_code(self) -> bool:
        return self.code_hash is not None


class ShareAttempt(Base):
    """Failed share lookups (unknown or dead links, wrong codes) from one client address in one
    fixed window. In the database so that every worker and host counts the same attempts."""

    __tablename__ = "share_attempts"
    __table_args__ = (UniqueConstraint("address_hash", "window_start", name="uq_share_attempts_address_window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
