"""The receipt email (reports/notify.py) over real SMTP to the suite's mailbox: the primary
contact (the organizations API's active primary member) gets the receipt number in French
then English; no primary contact, or a relay that is down, is logged and never undoes the
submission."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from clients.institution_portal.db import Base
from clients.institution_portal.mail import Mailer
from clients.institution_portal.reports.notify import EmailNotifier
from clients.institution_portal.reports.services import Actor, ReportService
from tests.institution_portal_mail_support import portal_settings
from tests.institution_portal_reports_support import (
    NOW,
    ORG_A,
    add_institution_with_period,
    student,
)
from tests.mail_support import text_body
from tests.support import FrozenClock

PRIMARY = "principal@college.example.ca"


class Directory:
    def __init__(self, *members):
        self.members = list(members)

    def list_members(self, organization_id):
        assert organization_id == ORG_A
        return self.members


def member(email, role="primary", state="active"):
    return SimpleNamespace(email=email, role=role, state=state)


@pytest.fixture
def submitted(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        period = add_institution_with_period(session, ORG_A, "O123456789012")
        service = ReportService(session, portal_settings(), FrozenClock(NOW))
        actor = Actor(ORG_A, "sub", "primary")
        report = service.open(actor, period.id)
        for number in (1, 2, 3):
            service.add_row(actor, report.public_id, report.revision, student(number))
        version = service.submit(actor, report.public_id, report.revision)
        session.commit()
        yield report, version
    engine.dispose()


def notifier(directory, **settings):
    values = portal_settings(**settings)
    return EmailNotifier(values, directory, Mailer(values, FrozenClock(NOW)))


def test_the_primary_contact_gets_the_receipt_in_french_then_english(submitted, mailbox):
    report, version = submitted
    directory = Directory(member("second@college.example.ca", role="secondary"), member(PRIMARY))
    assert notifier(directory).report_submitted(report, version) is True
    [message] = mailbox.to(PRIMARY)
    receipt = version.receipt_number
    assert message["Subject"] == (f"Rapport de conformité reçu – reçu {receipt} / "
                                  f"Compliance report received – receipt {receipt}")
    body = text_body(message)
    assert "Collège Imaginaire (numéro d'EED O123456789012)" in body and "Imaginary College (DLI number" in body
    assert "3 étudiants" in body and "listing 3 students" in body
    assert f"http://127.0.0.1:5003/reports/{report.public_id}/versions/1" in body
    assert mailbox.to("second@college.example.ca") == []


def test_no_primary_contact_or_a_relay_down_is_logged_not_raised(submitted, mailbox, caplog):
    report, version = submitted
    assert notifier(Directory(member(PRIMARY, state="removed"))).report_submitted(report, version) is False
    assert notifier(Directory(member(PRIMARY)), PORTAL_SMTP_PORT=1).report_submitted(report, version) is False
    assert mailbox.to(PRIMARY) == []
    assert caplog.text.count(f"receipt {version.receipt_number} not emailed") == 2


def test_a_submission_at_the_portal_emails_the_primary_user_at_passerelle(live_server, tmp_path, clock, mailbox):
    """The whole chain with a live Passerelle: the portal asks the organizations API (its own
    client_credentials) for the active primary member, and the suite's SMTP server gets the
    receipt at their address."""
    from clients.institution_portal.db import db as portal_db
    from tests.institution_portal_api_support import (
        attach,
        register_api_portal,
        signed_in,
    )
    from tests.institution_portal_mail_support import mail_overrides
    from tests.integration.institution_portal.test_periods import (
        build_portal_with_clock,
    )
    from tests.integration.institution_portal.test_reports import (
        add,
        revision,
        start,
        submit,
    )
    from tests.orgs_access_support import (
        PRIMARY_EMAIL,
        SECONDARY_EMAIL,
        dli_with_members,
    )

    dli = dli_with_members(live_server.app)
    registration = register_api_portal(live_server.app)
    attach(live_server.app, dli.id, registration.client_id)
    app = build_portal_with_clock(live_server.url, registration, tmp_path / "portal.db", clock, **mail_overrides())
    with app.app_context():
        add_institution_with_period(portal_db.session, dli.public_id, "O123456789012", today=clock().date())
        portal_db.session.commit()
        app.config["TEST_PERIODS"] = [1]
    client = signed_in(app, live_server.app, registration.client_id, PRIMARY_EMAIL, "primary", dli.public_id)
    report_id = start(app, client)
    add(client, report_id, student(1))
    assert revision(client, report_id)
    mailbox.clear()
    response = submit(client, report_id)
    assert response.status_code == 302
    # The portal's own mail only: Passerelle's invitations to the members, sent by its
    # sender thread after the first request, may land after the clear (seen on CI).
    message = mailbox.wait_for(PRIMARY_EMAIL, sender="eed.example.ca")
    assert "Compliance report received – receipt EED-" in message["Subject"]
    assert not [m for m in mailbox.to(SECONDARY_EMAIL) if "receipt" in m["Subject"]]  # (their invitation came)
