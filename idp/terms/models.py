"""Published versions of the terms of use and privacy policy, and who accepted which."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.db import Base, UTCDateTime, utcnow


class TermsVersion(Base):
    """One published version. The latest published is the one in force (TermsService)."""

    __tablename__ = "terms_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The folder name under templates/terms/, e.g. "2026-11"; names sort in time order.
    version: Mapped[str] = mapped_column(String(32), unique=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TermsAcceptance(Base):
    """A person accepted a version, reading it in one language, at one time (issue 3, Terms)."""

    __tablename__ = "terms_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
