"""The institutions the portal serves (its copy of Passerelle's organizations, plus the
province that only the ministry knows)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from clients.institution_portal.db import Base, UTCDateTime


class InstitutionState(StrEnum):
    ACTIVE = "active"
    # Disabled at Passerelle: its people cannot sign in; it gets no period nor notice.
    DISABLED = "disabled"
    # No longer attached to the portal's client at Passerelle (kept for its history).
    DETACHED = "detached"


class Institution(Base):
    """A designated learning institution, by Passerelle's organization public id."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    name_fr: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    # Two-letter code (QC, ON, …); None until an operator imports it: no period before.
    province: Mapped[str | None] = mapped_column(String(2), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default=InstitutionState.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fr
