"""A reporting period per institution and season, and the notices sent about it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clients.institution_portal.db import Base, UTCDateTime
from clients.institution_portal.institutions.models import Institution

# The demo's period (`python -m clients.institution_portal demo`), open whatever the date.
DEMO_SEASON = "demo"


class ReportingPeriod(Base):
    """One institution's period of one season ("2026-11"): the report is due by due_on
    (included). Made by `periods run` (or the demo); unique per institution and season, so
    two runs at once make one."""

    __tablename__ = "reporting_periods"
    __table_args__ = (UniqueConstraint("institution_id", "season", name="uq_reporting_periods_institution_season"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    season: Mapped[str] = mapped_column(String(20))
    opens_on: Mapped[date] = mapped_column(Date())
    due_on: Mapped[date] = mapped_column(Date())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set by the reports feature when the report is first submitted: no more reminders.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    institution: Mapped[Institution] = relationship(lazy="joined")


class NoticeKind(StrEnum):
    OPENED = "opened"

    @staticmethod
    def reminder(days: int) -> str:
        return f"reminder-{days}"


class NoticeState(StrEnum):
    SENDING = "sending"  # claimed by a run, being sent
    SENT = "sent"
    FAILED = "failed"  # retried by the next run


class PeriodNotice(Base):
    """One email about one period ("opened", "reminder-30", …). The row is the claim: the
    unique constraint lets only one run insert it, and a run sends only what it claimed."""

    __tablename__ = "period_notices"
    __table_args__ = (UniqueConstraint("period_id", "kind", name="uq_period_notices_period_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("reporting_periods.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Where it went (the primary contact's address at the time), once sent.
    recipient: Mapped[str | None] = mapped_column(String(320), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
