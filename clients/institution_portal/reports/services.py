"""Compliance reports, without Flask. Every query is scoped by the person's institution (the
organization_id of their portal session): a report of another institution is "not found".
Every change names the revision its form was built from (optimistic locking): a stale one
raises StaleReport and changes nothing.

Lifecycle: a report (one per institution and period) starts as a draft, version 1. Primary
and secondary users add, edit and remove rows or replace them from a CSV file; the primary
user submits it (a receipt number, an email to the primary contact). Within
PORTAL_REPORT_CORRECTION_DAYS of the first submission, a correction copies the newest
submitted version into a new draft version, submitted again with its own receipt; every
version is kept.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clients.institution_portal.config import Settings
from clients.institution_portal.institutions.models import Institution
from clients.institution_portal.periods.models import ReportingPeriod
from clients.institution_portal.reports import csv_format
from clients.institution_portal.reports.errors import (
    CorrectionWindowClosed,
    NotADraft,
    NotPrimary,
    PeriodNotFound,
    ReportNotFound,
    RowInvalid,
    StaleReport,
    TooManyRows,
)
from clients.institution_portal.reports.models import (
    DRAFT,
    SUBMITTED,
    ComplianceReport,
    ReportRow,
    ReportVersion,
)
from clients.institution_portal.reports.rows import Problem, Row, clean_row

# Receipt numbers: EED-XXXX-XXXX from Crockford's alphabet (no I, L, O, U to misread).
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_receipt() -> str:
    chars = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))
    return f"EED-{chars[:4]}-{chars[4:]}"


def random_public_id() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Actor:
    """Who acts, from their portal session."""

    organization_id: str
    sub: str
    role: str

    @property
    def is_primary(self) -> bool:
        return self.role == "primary"


class SubmissionNotifier(Protocol):
    """Tells the institution's primary contact that a version was submitted (the portal's
    mail module, clients/institution_portal/mail)."""

    def report_submitted(self, report: ComplianceReport, version: ReportVersion) -> None: ...


class ReportService:
    def __init__(self, session: Session, settings: Settings, clock: Callable[[], datetime], *,
                 notifier: SubmissionNotifier | None = None, new_receipt: Callable[[], str] = random_receipt,
                 new_public_id: Callable[[], str] = random_public_id):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.notifier = notifier
        self.new_receipt = new_receipt
        self.new_public_id = new_public_id

    # Reading (always within the actor's institution)

    def find_for_period(self, actor: Actor, period_id: int) -> ComplianceReport | None:
        return self.session.scalar(select(ComplianceReport).where(
            ComplianceReport.organization_id == actor.organization_id, ComplianceReport.period_id == period_id))

    def get(self, actor: Actor, public_id: str) -> ComplianceReport:
        report = self.session.scalar(select(ComplianceReport).where(
            ComplianceReport.organization_id == actor.organization_id, ComplianceReport.public_id == str(public_id)))
        if report is None:
            raise ReportNotFound(public_id)
        return report

    def history(self, actor: Actor) -> list[ComplianceReport]:
        """Every report of the institution, newest period first."""
        return list(self.session.scalars(select(ComplianceReport).where(
            ComplianceReport.organization_id == actor.organization_id).order_by(
            ComplianceReport.period_id.desc(), ComplianceReport.id.desc())))

    def row_counts(self, reports: Iterable[ComplianceReport]) -> dict[int, int]:
        """How many students each version of these reports lists, by version id, counted
        by the database (the history does not load every row)."""
        ids = [version.id for report in reports for version in report.versions]
        if not ids:
            return {}
        return dict(self.session.execute(select(ReportRow.version_id, func.count()).where(
            ReportRow.version_id.in_(ids)).group_by(ReportRow.version_id)).all())

    @staticmethod
    def current(report: ComplianceReport) -> ReportVersion:
        """The newest version (the draft, if there is one)."""
        return report.versions[-1]

    def version(self, actor: Actor, public_id: str, number: int) -> ReportVersion:
        report = self.get(actor, public_id)
        for version in report.versions:
            if version.number == number:
                return version
        raise ReportNotFound(f"{public_id} v{number}")

    def row(self, actor: Actor, public_id: str, row_id: str) -> ReportRow:
        """A row of the report's newest version."""
        version = self.current(self.get(actor, public_id))
        row = self.session.scalar(select(ReportRow).where(ReportRow.version_id == version.id,
                                                          ReportRow.public_id == str(row_id)))
        if row is None:
            raise ReportNotFound(row_id)
        return row

    def correction_deadline(self, report: ComplianceReport) -> datetime | None:
        if report.first_submitted_at is None:
            return None
        return report.first_submitted_at + timedelta(days=self.settings.PORTAL_REPORT_CORRECTION_DAYS)

    def can_correct(self, report: ComplianceReport) -> bool:
        return self.current(report).state == SUBMITTED and self.window_open(report)

    def window_open(self, report: ComplianceReport) -> bool:
        deadline = self.correction_deadline(report)
        return deadline is not None and self.clock() < deadline

    def lapsed(self, version: ReportVersion) -> bool:
        """A correction left in draft until its window ended: it will never count; the
        report stands as its last submitted version."""
        return version.state == DRAFT and version.number > 1 and not self.window_open(version.report)

    def last_submitted(self, report: ComplianceReport) -> ReportVersion | None:
        return next((version for version in reversed(report.versions) if version.state == SUBMITTED), None)

    @property
    def limits(self) -> csv_format.Limits:
        return csv_format.Limits(self.settings.PORTAL_REPORT_MAX_BYTES, self.settings.PORTAL_REPORT_MAX_ROWS)

    def today(self) -> date:
        return self.clock().date()

    # Changing

    def open(self, actor: Actor, period_id: int) -> ComplianceReport:
        """The institution's report for the period, made (an empty draft) if it has none."""
        report = self.find_for_period(actor, period_id)
        if report is not None:
            return report
        period = self.session.scalar(select(ReportingPeriod).join(Institution).where(
            ReportingPeriod.id == period_id, Institution.public_id == actor.organization_id))
        if period is None:
            raise PeriodNotFound(period_id)
        now = self.clock()
        report = ComplianceReport(public_id=self.new_public_id(), organization_id=actor.organization_id,
                                  period_id=period_id, revision=1, created_at=now)
        report.versions.append(ReportVersion(number=1, state=DRAFT, created_at=now, created_by=actor.sub))
        try:
            with self.session.begin_nested():  # two people starting it at once: one report
                self.session.add(report)
        except IntegrityError:
            return self.find_for_period(actor, period_id)
        return report

    def add_row(self, actor: Actor, public_id: str, revision: int, values: Mapping[str, Any]) -> ReportRow:
        report = self.get(actor, public_id)
        draft = self._editable(report, revision)
        if len(draft.rows) >= self.settings.PORTAL_REPORT_MAX_ROWS:
            raise TooManyRows(self.settings.PORTAL_REPORT_MAX_ROWS)
        row = self._checked(draft, values, None)
        self._bump(report, revision)
        stored = ReportRow(public_id=self.new_public_id(), **_columns(row))
        draft.rows.append(stored)
        self.session.flush()
        return stored

    def update_row(self, actor: Actor, public_id: str, row_id: str, revision: int, values: Mapping[str, Any]) -> ReportRow:
        report = self.get(actor, public_id)
        draft = self._editable(report, revision)
        stored = self.row(actor, public_id, row_id)
        row = self._checked(draft, values, stored)
        self._bump(report, revision)
        for name, value in _columns(row).items():
            setattr(stored, name, value)
        self.session.flush()
        return stored

    def remove_row(self, actor: Actor, public_id: str, row_id: str, revision: int) -> None:
        report = self.get(actor, public_id)
        draft = self._editable(report, revision)
        stored = self.row(actor, public_id, row_id)
        self._bump(report, revision)
        draft.rows.remove(stored)
        self.session.flush()

    def replace_rows(self, actor: Actor, public_id: str, revision: int, data: bytes) -> int:
        """The draft's rows become the CSV file's, all or nothing (UploadInvalid lists every
        problem and saves nothing). Returns how many rows were saved."""
        report = self.get(actor, public_id)
        draft = self._editable(report, revision)
        rows = csv_format.parse(data, self.limits, self.today())
        self._bump(report, revision)
        self.session.execute(delete(ReportRow).where(ReportRow.version_id == draft.id))
        self._insert_rows(draft, (row for _line, row in rows))
        return len(rows)

    def submit(self, actor: Actor, public_id: str, revision: int) -> ReportVersion:
        """The primary user submits the draft: a receipt number, the primary contact told."""
        report = self.get(actor, public_id)
        if not actor.is_primary:
            raise NotPrimary(actor.role)
        draft = self._editable(report, revision)
        self._bump(report, revision)
        now = self.clock()
        draft.state, draft.submitted_at, draft.submitted_by = SUBMITTED, now, actor.sub
        draft.receipt_number = self._unused_receipt()
        if report.first_submitted_at is None:
            report.first_submitted_at = now
            if report.period.submitted_at is None:
                report.period.submitted_at = now  # no more reminders for this period
        self.session.flush()
        return draft

    def announce(self, report: ComplianceReport, version: ReportVersion) -> bool:
        """Tell the primary contact (after the submission is committed)."""
        return self.notifier.report_submitted(report, version) if self.notifier is not None else False

    def start_correction(self, actor: Actor, public_id: str, revision: int) -> ReportVersion:
        """A new draft version, a copy of the newest submitted one, while the window is open."""
        report = self.get(actor, public_id)
        self._check_revision(report, revision)
        latest = self.current(report)
        if latest.state != SUBMITTED:
            return latest  # a correction is already in progress
        if not self.can_correct(report):
            raise CorrectionWindowClosed(report.public_id)
        self._bump(report, revision)
        draft = ReportVersion(number=latest.number + 1, state=DRAFT, created_at=self.clock(), created_by=actor.sub)
        report.versions.append(draft)
        self.session.flush()
        self._insert_rows(draft, rows_of(latest))
        return draft

    def discard_correction(self, actor: Actor, public_id: str, revision: int) -> ReportVersion:
        """Drop the correction in draft (and its rows); the report stands as its last
        submitted version, which is returned. Version 1 is never discarded."""
        report = self.get(actor, public_id)
        draft = self._editable(report, revision)
        if draft.number == 1:
            raise NotADraft(report.public_id)
        self._bump(report, revision)
        report.versions.remove(draft)
        self.session.flush()
        return self.current(report)

    # Rules

    def _check_revision(self, report: ComplianceReport, revision: int) -> None:
        if revision != report.revision:
            raise StaleReport(report.revision, submitted=self.current(report).state == SUBMITTED)

    def _editable(self, report: ComplianceReport, revision: int) -> ReportVersion:
        """The draft the form may change: the right revision, a draft, inside the window
        when it is a correction."""
        self._check_revision(report, revision)
        draft = self.current(report)
        if draft.state != DRAFT:
            raise NotADraft(report.public_id)
        if draft.number > 1 and not self.window_open(report):
            raise CorrectionWindowClosed(report.public_id)
        return draft

    def _bump(self, report: ComplianceReport, revision: int) -> None:
        """Take the next revision, atomically: another request that read the same revision
        and got here first makes this one stale."""
        result = self.session.execute(
            update(ComplianceReport).where(ComplianceReport.id == report.id, ComplianceReport.revision == revision)
            .values(revision=ComplianceReport.revision + 1).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            self.session.refresh(report)
            raise StaleReport(report.revision, submitted=self.current(report).state == SUBMITTED)
        self.session.refresh(report, ["revision"])

    def _checked(self, draft: ReportVersion, values: Mapping[str, Any], editing: ReportRow | None) -> Row:
        row, problems = clean_row(values, self.today())
        if row is None:
            raise RowInvalid(problems)
        for other in draft.rows:
            if other is editing:
                continue
            if other.student_number.upper() == row.student_number.upper():
                problems.append(Problem("duplicate_student_number_in_report", "student_number"))
            if other.uci == row.uci:
                problems.append(Problem("duplicate_uci_in_report", "uci"))
        if problems:
            raise RowInvalid(problems)
        return row

    def _insert_rows(self, version: ReportVersion, rows: Iterable[Row]) -> None:
        """Many rows in one executemany (a 5,000-student file in well under a second)."""
        values = [{"public_id": self.new_public_id(), "version_id": version.id, **_columns(row)} for row in rows]
        if values:
            self.session.execute(insert(ReportRow), values)
        self.session.expire(version, ["rows"])

    def _unused_receipt(self) -> str:
        for _ in range(20):
            receipt = self.new_receipt()
            if self.session.scalar(select(func.count()).where(ReportVersion.receipt_number == receipt)) == 0:
                return receipt
        raise RuntimeError("no unused receipt number after 20 tries")


def _columns(row: Row) -> dict[str, Any]:
    return asdict(row)


def _stored(stored: ReportRow) -> dict[str, Any]:
    return {name: getattr(stored, name) for name in Row.__dataclass_fields__}


def rows_of(version: ReportVersion) -> list[Row]:
    """A version's rows as checked rows (for the export)."""
    return [Row(**_stored(stored)) for stored in version.rows]
