"""ReportService on a real database, without Flask: drafts, rows from the form and from CSV
(all or nothing), submit (primary only, receipts unique), corrections inside the window on
the injected clock, every version kept, optimistic locking, and every query scoped by the
institution."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from clients.institution_portal.db import Base
from clients.institution_portal.reports.errors import (
    CorrectionWindowClosed,
    NotADraft,
    NotPrimary,
    PeriodNotFound,
    ReportNotFound,
    RowInvalid,
    StaleReport,
    TooManyRows,
    UploadInvalid,
)
from clients.institution_portal.reports.models import ComplianceReport, ReportRow
from clients.institution_portal.reports.services import (
    Actor,
    ReportService,
    random_receipt,
)
from tests.institution_portal_reports_support import (
    NOW,
    ORG_A,
    ORG_B,
    RecordingNotifier,
    add_institution_with_period,
    csv_bytes,
    portal_settings,
    row,
    student,
)
from tests.support import FrozenClock

PRIMARY_A = Actor(ORG_A, "sub-a1", "primary")
SECONDARY_A = Actor(ORG_A, "sub-a2", "secondary")
PRIMARY_B = Actor(ORG_B, "sub-b1", "primary")


@pytest.fixture
def session(database_uri):
    """The portal's tables on a fresh SQLite file, or on PostgreSQL with --db-url (tests/pg.sh)."""
    engine = create_engine(database_uri)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def clock():
    return FrozenClock(NOW)


@pytest.fixture
def periods(session):
    return (add_institution_with_period(session, ORG_A, "O100000000001"),
            add_institution_with_period(session, ORG_B, "O100000000002", name_fr="École B", name_en="School B"))


@pytest.fixture
def notifier():
    return RecordingNotifier()


@pytest.fixture
def service(session, clock, notifier, periods):
    return ReportService(session, portal_settings(PORTAL_REPORT_MAX_ROWS=50), clock, notifier=notifier)


def draft_with(service, periods, *students, actor=SECONDARY_A):
    report = service.open(actor, periods[0].id)
    for values in students:
        service.add_row(actor, report.public_id, report.revision, values)
    return report


def test_a_draft_is_opened_once_per_institution_and_period(service, periods):
    report = service.open(SECONDARY_A, periods[0].id)
    assert service.open(PRIMARY_A, periods[0].id) is report
    assert report.revision == 1 and [v.number for v in report.versions] == [1] and report.versions[0].state == "draft"
    assert len(report.public_id) >= 20


def test_a_period_of_another_institution_cannot_be_opened(service, periods):
    with pytest.raises(PeriodNotFound):
        service.open(PRIMARY_A, periods[1].id)


def test_rows_are_added_edited_and_removed_each_change_taking_a_revision(service, periods):
    report = draft_with(service, periods, student(1), student(2))
    assert report.revision == 3
    first, second = service.current(report).rows
    service.update_row(SECONDARY_A, report.public_id, first.public_id, 3, student(1, program="Welding"))
    assert first.program == "Welding" and report.revision == 4
    service.remove_row(SECONDARY_A, report.public_id, second.public_id, 4)
    assert [r.student_number for r in service.current(report).rows] == ["S00001"] and report.revision == 5


def test_a_row_is_checked_like_a_csv_line_and_a_duplicate_in_the_report_is_refused(service, periods):
    report = draft_with(service, periods, student(1))
    with pytest.raises(RowInvalid) as invalid:
        service.add_row(SECONDARY_A, report.public_id, report.revision, student(2, date_of_birth="2027-01-01"))
    assert [p.code for p in invalid.value.problems] == ["birth_in_future"]
    with pytest.raises(RowInvalid) as invalid:
        service.add_row(SECONDARY_A, report.public_id, report.revision, student(1, uci="87654321"))
    assert [p.code for p in invalid.value.problems] == ["duplicate_student_number_in_report"]
    with pytest.raises(RowInvalid) as invalid:
        service.add_row(SECONDARY_A, report.public_id, report.revision, student(2, uci=student(1)["uci"]))
    assert [p.code for p in invalid.value.problems] == ["duplicate_uci_in_report"]
    # Editing a row keeps its own student number and UCI.
    [stored] = service.current(report).rows
    service.update_row(SECONDARY_A, report.public_id, stored.public_id, report.revision, student(1, program="Law"))
    assert stored.program == "Law"


def test_a_draft_holds_at_most_the_row_limit(session, clock, periods):
    service = ReportService(session, portal_settings(PORTAL_REPORT_MAX_ROWS=2), clock)
    report = draft_with(service, periods, student(1), student(2))
    with pytest.raises(TooManyRows):
        service.add_row(SECONDARY_A, report.public_id, report.revision, student(3))


def test_an_upload_replaces_the_rows_all_or_nothing(service, periods, session):
    report = draft_with(service, periods, student(1))
    session.commit()
    with pytest.raises(UploadInvalid):
        service.replace_rows(SECONDARY_A, report.public_id, report.revision, csv_bytes([student(5), row(uci="1")]))
    session.rollback()
    report = service.get(SECONDARY_A, report.public_id)
    assert [r.student_number for r in service.current(report).rows] == ["S00001"] and report.revision == 2
    assert service.replace_rows(SECONDARY_A, report.public_id, 2, csv_bytes([student(5), student(6)])) == 2
    assert [r.student_number for r in service.current(report).rows] == ["S00005", "S00006"] and report.revision == 3


def test_only_the_primary_user_submits_and_gets_a_receipt_and_the_contact_is_told(service, periods, notifier, clock):
    report = draft_with(service, periods, student(1))
    with pytest.raises(NotPrimary):
        service.submit(SECONDARY_A, report.public_id, report.revision)
    assert service.current(report).state == "draft"
    version = service.submit(PRIMARY_A, report.public_id, report.revision)
    assert version.state == "submitted" and version.submitted_at == clock() and version.submitted_by == "sub-a1"
    assert version.receipt_number.startswith("EED-") and len(version.receipt_number) == 13
    assert report.first_submitted_at == clock() and periods[0].submitted_at == clock()
    assert service.announce(report, version) and notifier.sent == [(ORG_A, version.receipt_number, 1)]


def test_a_submitted_report_changes_only_through_a_correction(service, periods):
    report = draft_with(service, periods, student(1))
    service.submit(PRIMARY_A, report.public_id, report.revision)
    with pytest.raises(NotADraft):
        service.add_row(SECONDARY_A, report.public_id, report.revision, student(2))
    with pytest.raises(NotADraft):
        service.replace_rows(SECONDARY_A, report.public_id, report.revision, csv_bytes([student(2)]))
    with pytest.raises(NotADraft):
        service.submit(PRIMARY_A, report.public_id, report.revision)


def test_a_correction_is_a_new_version_with_its_own_receipt_and_every_version_is_kept(service, periods, clock, notifier):
    report = draft_with(service, periods, student(1), student(2))
    first = service.submit(PRIMARY_A, report.public_id, report.revision)
    clock.advance(days=3)
    correction = service.start_correction(SECONDARY_A, report.public_id, report.revision)
    assert correction.number == 2 and correction.state == "draft"
    assert [r.student_number for r in correction.rows] == ["S00001", "S00002"]
    assert {r.public_id for r in correction.rows}.isdisjoint({r.public_id for r in first.rows})
    stored = correction.rows[1]
    service.update_row(SECONDARY_A, report.public_id, stored.public_id, report.revision,
                       student(2, status="completed", status_date="2026-11-15"))
    second = service.submit(PRIMARY_A, report.public_id, report.revision)
    assert second.receipt_number != first.receipt_number and second.number == 2
    assert [v.state for v in report.versions] == ["submitted", "submitted"]
    assert [r.status for r in first.rows] == ["full_time", "full_time"]
    assert [r.status for r in second.rows] == ["full_time", "completed"]
    assert report.first_submitted_at == NOW  # the window runs from the first submission
    assert service.version(PRIMARY_A, report.public_id, 1) is first


def test_the_correction_window_closes_after_the_setting_on_the_injected_clock(service, periods, clock):
    report = draft_with(service, periods, student(1))
    service.submit(PRIMARY_A, report.public_id, report.revision)
    assert service.correction_deadline(report) == NOW + timedelta(days=10)
    clock.advance(days=10, seconds=-1)
    assert service.can_correct(report)
    service.start_correction(SECONDARY_A, report.public_id, report.revision)
    clock.advance(seconds=1)
    # A correction started in time can no longer be edited or submitted once the window ends.
    with pytest.raises(CorrectionWindowClosed):
        service.add_row(SECONDARY_A, report.public_id, report.revision, student(2))
    with pytest.raises(CorrectionWindowClosed):
        service.submit(PRIMARY_A, report.public_id, report.revision)


def test_no_correction_starts_after_the_window(service, periods, clock):
    report = draft_with(service, periods, student(1))
    service.submit(PRIMARY_A, report.public_id, report.revision)
    clock.advance(days=10)
    assert not service.can_correct(report)
    with pytest.raises(CorrectionWindowClosed):
        service.start_correction(PRIMARY_A, report.public_id, report.revision)
    assert len(report.versions) == 1


def test_a_stale_revision_changes_nothing_and_says_whether_the_report_was_submitted(service, periods):
    report = draft_with(service, periods, student(1))
    opened_at = report.revision
    service.add_row(PRIMARY_A, report.public_id, opened_at, student(2))
    with pytest.raises(StaleReport) as stale:
        service.add_row(SECONDARY_A, report.public_id, opened_at, student(3))
    assert (stale.value.current_revision, stale.value.submitted) == (opened_at + 1, False)
    service.submit(PRIMARY_A, report.public_id, report.revision)
    with pytest.raises(StaleReport) as stale:
        service.add_row(SECONDARY_A, report.public_id, opened_at + 1, student(3))
    assert stale.value.submitted is True
    with pytest.raises(StaleReport):
        service.submit(PRIMARY_A, report.public_id, opened_at + 1)
    assert len(service.current(report).rows) == 2


def test_two_writers_with_the_same_revision_one_wins(service, periods, session):
    """The revision is taken with a conditional UPDATE: a writer whose in-memory report
    still shows the old revision loses even though its own check passed."""
    report = draft_with(service, periods, student(1))
    revision = report.revision
    from sqlalchemy import update

    from clients.institution_portal.reports.models import ComplianceReport
    session.execute(update(ComplianceReport).where(ComplianceReport.id == report.id)
                    .values(revision=revision + 1).execution_options(synchronize_session=False))
    with pytest.raises(StaleReport):
        service.add_row(SECONDARY_A, report.public_id, revision, student(2))


def test_another_institution_sees_nothing(service, periods):
    report = draft_with(service, periods, student(1))
    row_id = service.current(report).rows[0].public_id
    for call in (lambda: service.get(PRIMARY_B, report.public_id),
                 lambda: service.version(PRIMARY_B, report.public_id, 1),
                 lambda: service.row(PRIMARY_B, report.public_id, row_id),
                 lambda: service.add_row(PRIMARY_B, report.public_id, report.revision, student(2)),
                 lambda: service.remove_row(PRIMARY_B, report.public_id, row_id, report.revision),
                 lambda: service.submit(PRIMARY_B, report.public_id, report.revision),
                 lambda: service.start_correction(PRIMARY_B, report.public_id, report.revision)):
        with pytest.raises(ReportNotFound):
            call()
    assert service.history(PRIMARY_B) == [] and service.history(PRIMARY_A) == [report]


def test_receipt_numbers_are_unique_even_when_the_random_source_repeats(session, clock, periods):
    draws = iter(["EED-AAAA-AAAA", "EED-AAAA-AAAA", "EED-BBBB-BBBB"])
    service = ReportService(session, portal_settings(), clock, new_receipt=lambda: next(draws))
    first = draft_with(service, periods, student(1), actor=PRIMARY_A)
    service.submit(PRIMARY_A, first.public_id, first.revision)
    second = service.open(PRIMARY_B, periods[1].id)
    assert service.submit(PRIMARY_B, second.public_id, second.revision).receipt_number == "EED-BBBB-BBBB"
    assert len({random_receipt() for _ in range(2000)}) == 2000
    assert all(set(r[4:8] + r[9:]) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for r in (random_receipt(),))


def test_rows_of_a_removed_draft_version_go_with_it(service, periods, session):
    report = draft_with(service, periods, student(1))
    service.remove_row(SECONDARY_A, report.public_id, service.current(report).rows[0].public_id, report.revision)
    assert session.scalar(select(func.count()).select_from(ReportRow)) == 0


def test_two_people_starting_the_same_report_at_once_get_one(service, periods, session):
    """The second insert loses on the unique (institution, period) and returns the first."""
    first = service.open(PRIMARY_A, periods[0].id)
    session.commit()
    real, looks = service.find_for_period, []

    def first_look_misses(actor, period_id):  # as when the other insert is not committed yet
        looks.append(period_id)
        return None if len(looks) == 1 else real(actor, period_id)

    service.find_for_period = first_look_misses
    assert service.open(SECONDARY_A, periods[0].id).id == first.id
    session.commit()
    assert session.scalar(select(func.count()).select_from(ComplianceReport)) == 1


@pytest.mark.parametrize("name", ["rows", "csv_format", "services", "errors", "notify", "models", "demo"])
def test_the_reports_rules_import_no_flask(name):
    """Only views.py, forms.py and messages.py of reports/ know Flask (design.md, layering)."""
    from pathlib import Path

    from clients.institution_portal import reports
    from tests.unit.test_layering import imported_modules, is_flask

    path = Path(reports.__file__).parent / f"{name}.py"
    assert not [module for module in imported_modules(path) if is_flask(module)]


def test_a_correction_can_be_discarded_and_one_left_past_the_window_lapses(service, periods, clock, session):
    report = draft_with(service, periods, student(1))
    first = service.submit(PRIMARY_A, report.public_id, report.revision)
    with pytest.raises(NotADraft):
        service.discard_correction(PRIMARY_A, report.public_id, report.revision)
    correction = service.start_correction(SECONDARY_A, report.public_id, report.revision)
    assert not service.lapsed(correction)
    assert service.discard_correction(SECONDARY_A, report.public_id, report.revision) is first
    assert [v.number for v in report.versions] == [1]
    assert session.scalar(select(func.count()).select_from(ReportRow)) == 1
    correction = service.start_correction(SECONDARY_A, report.public_id, report.revision)
    assert correction.number == 2 and service.last_submitted(report) is first
    clock.advance(days=10)
    assert service.lapsed(correction) and not service.lapsed(first)
    with pytest.raises(CorrectionWindowClosed):
        service.discard_correction(SECONDARY_A, report.public_id, report.revision)
    fresh = service.open(PRIMARY_B, periods[1].id)  # a first draft is not a correction
    with pytest.raises(NotADraft):
        service.discard_correction(PRIMARY_B, fresh.public_id, fresh.revision)


def test_the_history_counts_rows_per_version_in_the_database(service, periods):
    report = draft_with(service, periods, student(1), student(2))
    service.submit(PRIMARY_A, report.public_id, report.revision)
    correction = service.start_correction(PRIMARY_A, report.public_id, report.revision)
    service.add_row(PRIMARY_A, report.public_id, report.revision, student(3))
    assert service.row_counts([report]) == {report.versions[0].id: 2, correction.id: 3}
    assert service.row_counts([]) == {}
