"""`periods run` on a real database and a real SMTP server on loopback: periods open for the
institutions that report (not Quebec, not before their province is known), the primary
contact gets each notice exactly once, even when the run is repeated or two run at once
(threads, on SQLite and on PostgreSQL), and a failed send is retried by the next run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clients.institution_portal.institutions.services import InstitutionService
from clients.institution_portal.mail import Mailer
from clients.institution_portal.periods.models import PeriodNotice, ReportingPeriod
from clients.institution_portal.periods.notices import CLAIM_LEASE, NoticeService
from clients.institution_portal.periods.runner import PeriodRunner
from clients.institution_portal.periods.services import PeriodService
from tests.institution_portal_mail_support import portal_settings
from tests.institution_portal_periods_support import Directory, Org, Person, drop_portal_schema, portal_engine
from tests.mail_support import text_body
from tests.support import FrozenClock, free_port

PRIMARY = "primary@college.example.ca"
ONTARIO, QUEBEC, UNKNOWN = Org("on1", "O100"), Org("qc1", "O200", name_fr="Cégep Imaginaire"), Org("xx1", "O300")


@pytest.fixture
def engine(request, tmp_path):
    engine = portal_engine(request, tmp_path)
    yield engine
    drop_portal_schema(engine)


@pytest.fixture
def clock():
    return FrozenClock(datetime(2026, 11, 1, 6, 0, tzinfo=UTC))


@pytest.fixture
def directory():
    members = {org.id: [Person("secondary@college.example.ca", role="secondary"), Person(PRIMARY)]
               for org in (ONTARIO, QUEBEC, UNKNOWN)}
    return Directory([ONTARIO, QUEBEC, UNKNOWN], members)


@pytest.fixture
def registry(engine, clock, directory):
    with Session(engine) as session:
        service = InstitutionService(session, clock)
        service.sync(directory.list_organizations())
        service.set_province("O100", "ON")
        service.set_province("O200", "QC")
        session.commit()


def run(engine, clock, directory, settings=None):
    settings = settings or portal_settings()
    with Session(engine) as session:
        return PeriodRunner(session, settings, clock, directory, Mailer(settings, clock)).run()


def notices(engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(row.kind, row.state) for row in session.scalars(select(PeriodNotice).order_by(PeriodNotice.id))]


def test_a_period_opens_for_ontario_but_not_quebec_nor_before_the_province_is_known(
        engine, clock, directory, registry, mailbox):
    report = run(engine, clock, directory)
    assert report.synced and report.opened == ["O100 2026-11"] and report.sent == ["O100 2026-11 opened"]
    with Session(engine) as session:
        periods = PeriodService(session, portal_settings(), clock)
        assert periods.status("on1").kind == "open" and periods.status("on1").days_left == 60
        assert periods.status("qc1").kind == "exempt" and periods.status("xx1").kind == "no_province"
        assert periods.status("nobody").kind == "unregistered"
    message = mailbox.wait_for(PRIMARY)
    assert len(mailbox.messages) == 1, "only the primary contact, only Ontario"
    assert "31 décembre 2026" in text_body(message) and "December 31, 2026" in text_body(message)
    assert "http://127.0.0.1:5003/" in text_body(message) and message["Content-Language"] == "fr, en"


def test_the_member_s_language_is_used_when_passerelle_gives_one(engine, clock, directory, registry, mailbox):
    directory.members["on1"] = [Person(PRIMARY, locale="en")]
    run(engine, clock, directory)
    message = mailbox.wait_for(PRIMARY)
    assert message["Content-Language"] == "en" and "décembre" not in text_body(message)


def test_running_twice_sends_each_notice_once(engine, clock, directory, registry, mailbox):
    run(engine, clock, directory)
    second = run(engine, clock, directory)
    assert second.opened == [] and second.sent == []
    assert len(mailbox.to(PRIMARY)) == 1 and notices(engine) == [("opened", "sent")]


def test_reminders_come_once_each_on_their_day_and_stop_after_the_deadline(engine, clock, directory, registry, mailbox):
    sent = []
    for _ in range(70):  # one run a day, twice a day, from 1 November to 9 January
        sent += run(engine, clock, directory).sent + run(engine, clock, directory).sent
        clock.advance(days=1)
    assert sent == ["O100 2026-11 opened", "O100 2026-11 reminder-30", "O100 2026-11 reminder-7",
                    "O100 2026-11 reminder-1"]
    assert len(mailbox.to(PRIMARY)) == 4
    assert "Reminder" in mailbox.to(PRIMARY)[1]["Subject"]


def test_a_submitted_report_stops_the_reminders(engine, clock, directory, registry, mailbox):
    run(engine, clock, directory)
    with Session(engine) as session:
        periods = PeriodService(session, portal_settings(), clock)
        periods.mark_submitted(periods.current("on1").id)
        session.commit()
    clock.advance(days=45)
    assert run(engine, clock, directory).sent == []


def test_a_failed_send_is_retried_by_the_next_run_and_then_sent_once(engine, clock, directory, registry, mailbox):
    down = portal_settings(PORTAL_SMTP_PORT=free_port())
    first = run(engine, clock, directory, down)
    assert first.failed == ["O100 2026-11 opened"] and notices(engine) == [("opened", "failed")]
    assert first.reasons == ["O100 2026-11 opened: MailNotSent: ConnectionRefusedError"]
    assert mailbox.to(PRIMARY) == []
    second = run(engine, clock, directory)
    assert second.sent == ["O100 2026-11 opened"] and run(engine, clock, directory).sent == []
    assert len(mailbox.to(PRIMARY)) == 1
    with Session(engine) as session:
        notice = session.scalar(select(PeriodNotice))
        assert notice.attempts == 2 and notice.recipient == PRIMARY and notice.last_error is None


def test_no_primary_contact_is_a_failure_retried_later(engine, clock, directory, registry, mailbox):
    directory.members["on1"] = [Person("secondary@college.example.ca", role="secondary")]
    assert run(engine, clock, directory).failed == ["O100 2026-11 opened"]
    directory.members["on1"] = [Person(PRIMARY)]
    assert run(engine, clock, directory).sent == ["O100 2026-11 opened"]


def test_a_claim_held_by_another_run_is_left_alone_until_its_lease_ends(engine, clock, directory, registry, mailbox):
    run(engine, clock, directory, portal_settings(PORTAL_SMTP_PORT=free_port()))
    with Session(engine) as session:
        period_id = session.scalar(select(ReportingPeriod.id))
        held = NoticeService(session, clock).claim(period_id, "opened")
        session.commit()
        assert held is not None and NoticeService(session, clock).claim(period_id, "opened") is None
    assert run(engine, clock, directory).sent == []
    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    assert run(engine, clock, directory).sent == ["O100 2026-11 opened"]


def test_two_runs_at_once_send_each_notice_once(engine, clock, directory, registry, mailbox):
    """Two `periods run` at the same moment (two threads, two connections), several times
    over; each institution's notice is claimed by one of them."""
    extra = [Org(f"org{index}", f"O9{index:02d}") for index in range(6)]
    directory.organizations += extra
    for org in extra:
        directory.members[org.id] = [Person(f"primary{org.number}@college.example.ca")]
    with Session(engine) as session:
        service = InstitutionService(session, clock)
        service.sync(directory.list_organizations())
        for org in extra:
            service.set_province(org.number, "BC")
        session.commit()
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def one_run():
        try:
            barrier.wait(timeout=30)
            reports.append(run(engine, clock, directory))
        except Exception as error:  # noqa: BLE001 (reported to the test below)
            errors.append(error)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    sent = sorted(label for report in reports for label in report.sent)
    assert len(sent) == 7 and len(set(sent)) == 7
    assert sorted(label for report in reports for label in report.opened) == sorted(
        f"{number} 2026-11" for number in ["O100", *(org.number for org in extra)])
    for number in ("O100", *(org.number for org in extra)):
        address = PRIMARY if number == "O100" else f"primary{number}@college.example.ca"
        mailbox.wait_for(address)
    assert len(mailbox.messages) == 7
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ReportingPeriod)) == 7
