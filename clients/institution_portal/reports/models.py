"""A compliance report (one institution, one reporting period), its versions (the draft
being prepared, each submission and each correction, all kept) and their student rows."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clients.institution_portal.db import Base, UTCDateTime
from clients.institution_portal.periods.models import ReportingPeriod

DRAFT, SUBMITTED = "draft", "submitted"


class ComplianceReport(Base):
    """One institution's report for one period. `public_id` is what URLs show (random);
    `revision` counts every change, for optimistic locking (each form carries the revision
    it was built from)."""

    __tablename__ = "compliance_reports"
    __table_args__ = (UniqueConstraint("organization_id", "period_id", name="uq_compliance_reports_organization_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    organization_id: Mapped[str] = mapped_column(String(64), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("reporting_periods.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When version 1 was submitted: the correction window runs from it.
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    period: Mapped[ReportingPeriod] = relationship()
    versions: Mapped[list[ReportVersion]] = relationship(
        back_populates="report", order_by="ReportVersion.number", cascade="all, delete-orphan")


class ReportVersion(Base):
    """Version 1 is the first submission; each correction is a new version with its own
    receipt. Only the newest version may be a draft."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("report_id", "number", name="uq_report_versions_report_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("compliance_reports.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    receipt_number: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(255))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submitted_by: Mapped[str | None] = mapped_column(String(255), nullable=True)

    report: Mapped[ComplianceReport] = relationship(back_populates="versions")
    rows: Mapped[list[ReportRow]] = relationship(
        back_populates="version", order_by="ReportRow.id", cascade="all, delete-orphan")


class ReportRow(Base):
    """One international student in one version of a report (reports/rows.py checks it)."""

    __tablename__ = "report_rows"
    __table_args__ = (
        UniqueConstraint("version_id", "student_number", name="uq_report_rows_version_student_number"),
        UniqueConstraint("version_id", "uci", name="uq_report_rows_version_uci"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("report_versions.id", ondelete="CASCADE"), index=True)
    student_number: Mapped[str] = mapped_column(String(20))
    family_name: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    uci: Mapped[str] = mapped_column(String(10))
    permit_number: Mapped[str] = mapped_column(String(10))
    program: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30))
    status_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(String(500), default="")

    version: Mapped[ReportVersion] = relationship(back_populates="rows")
