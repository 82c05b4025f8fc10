"""Helpers for the compliance reports' tests (clients/institution_portal/reports): an
institution with a reporting period in the portal's database, valid rows, CSV files built
in any encoding, and a notifier that records instead of emailing."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from clients.institution_portal.config import load, validate
from clients.institution_portal.institutions.models import Institution
from clients.institution_portal.periods.models import ReportingPeriod
from clients.institution_portal.reports.csv_format import HEADERS
from clients.institution_portal.reports.rows import FIELDS

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ORG_A, ORG_B = "org-A-public-id", "org-B-public-id"
VALID = {"student_number": "S1001", "family_name": "Tremblay", "given_names": "Marie", "date_of_birth": "2003-05-14",
         "uci": "12345678", "permit_number": "F123456789", "program": "Nursing", "status": "full_time",
         "status_date": "", "note": ""}


def portal_settings(**overrides):
    return validate(load({"PORTAL_ISSUER": "https://passerelle.example.ca", "PORTAL_CLIENT_ID": "c",
                          "PORTAL_CLIENT_SECRET": "s", "PORTAL_BASE_URL": "https://eed.example.ca",
                          "PORTAL_SECRET_KEY": "k" * 32, "PORTAL_DATABASE_URL": "sqlite://", **overrides}, environ={}))


def row(**changes) -> dict[str, str]:
    return {**VALID, **changes}


def student(number: int, **changes) -> dict[str, str]:
    """A distinct valid student (its own student number and UCI)."""
    return row(**{"student_number": f"S{number:05d}", "uci": f"{10000000 + number}", **changes})


def csv_bytes(rows, *, language="en", encoding="utf-8", bom=False, delimiter=",", header=None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header or [HEADERS[language][name] for name in FIELDS])
    for values in rows:
        writer.writerow([values.get(name, "") for name in FIELDS] if isinstance(values, dict) else values)
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def add_institution_with_period(session, public_id: str, number: str, *, today: date | None = None,
                                name_fr="Collège Imaginaire", name_en="Imaginary College") -> ReportingPeriod:
    today = today or NOW.date()
    institution = Institution(public_id=public_id, number=number, name_fr=name_fr, name_en=name_en, province="ON",
                              state="active", created_at=NOW)
    period = ReportingPeriod(institution=institution, season=f"{today.year}-{today.month:02d}",
                             opens_on=today - timedelta(days=19), due_on=today + timedelta(days=41), created_at=NOW)
    session.add(period)
    session.flush()
    return period


class RecordingNotifier:
    """Stands in for the receipt email: remembers what it was asked to send."""

    def __init__(self):
        self.sent = []

    def report_submitted(self, report, version) -> bool:
        self.sent.append((report.organization_id, version.receipt_number, version.number))
        return True


# The portal through Flask's test client, a person signed in without Passerelle: their portal
# session is opened the way the callback opens it, and their terms accepted.

ISSUER = "http://127.0.0.1:9"  # never called: the reports' pages need no discovery


def build_reports_portal(database_path, clock, **overrides):
    from clients.institution_portal import create_app
    from clients.institution_portal.db import db

    settings = {"PORTAL_ENV": "development", "PORTAL_ISSUER": ISSUER, "PORTAL_CLIENT_ID": "institution-portal",
                "PORTAL_CLIENT_SECRET": "s", "PORTAL_BASE_URL": "http://127.0.0.1:5003",
                "PORTAL_SECRET_KEY": "t" * 32, "PORTAL_DATABASE_URL": f"sqlite:///{database_path}", **overrides}
    app = create_app(settings, clock=clock, environ={})
    app.extensions["institution_portal_report_notifier"] = RecordingNotifier()
    with app.app_context():
        db.create_all()
    return app


def sign_in(app, client, organization_id: str, role: str, sub: str, *, terms: bool = True, number="O100000000001"):
    from clients.institution_portal.auth.services import SessionService
    from clients.institution_portal.claims import Identity
    from clients.institution_portal.db import db
    from clients.institution_portal.terms.services import TermsService
    from clients.institution_portal.web import SESSION_TOKEN_KEY

    portal = app.extensions["institution_portal"]
    with app.app_context():
        identity = Identity(sub=sub, acr="urn:passerelle:acr:mfa", organization_id=organization_id,
                            organization_number=number, organization_name_fr="Collège Imaginaire",
                            organization_name_en="Imaginary College", role=role)
        token = SessionService(db.session, portal.settings, portal.clock).open(identity, "id-token")
        if terms:
            TermsService(db.session, portal.settings, portal.clock).accept(sub)
        db.session.commit()
    with client.session_transaction() as session:
        session[SESSION_TOKEN_KEY] = token
    return client


def reports_contexts(prefix: str) -> dict:
    """The reports' pages for the every-template checks (tests/unit/test_translations.py)."""
    from datetime import date
    from types import SimpleNamespace

    from clients.institution_portal.reports.forms import (
        RevisionForm,
        RowForm,
        StartForm,
        UploadForm,
    )
    from clients.institution_portal.reports.messages import FIELD_LABELS, STATUS_LABELS
    from clients.institution_portal.reports.rows import NEEDS_DATE, NEEDS_NOTE, STATUSES

    stored = SimpleNamespace(public_id="r1", student_number="S1001", family_name="Tremblay", given_names="Marie",
                             date_of_birth=date(2003, 5, 14), uci="12345678", permit_number="F123456789",
                             program="Soins infirmiers", status="authorized_leave", status_date=date(2026, 9, 1),
                             note="Congé médical")
    period = SimpleNamespace(id=1, opens_on=date(2026, 11, 1), due_on=date(2026, 12, 31))
    version = SimpleNamespace(number=1, state="draft", rows=[stored], receipt_number=None, submitted_at=None)
    submitted = SimpleNamespace(number=1, state="submitted", rows=[stored], receipt_number="EED-7K3M-Q9TX",
                                submitted_at=NOW)
    report = SimpleNamespace(public_id="p1", revision=3, period_id=1, first_submitted_at=None,
                             versions=[version])
    service = SimpleNamespace(correction_deadline=lambda _report: NOW, can_correct=lambda _report: False,
                              window_open=lambda _report: True)
    correction = SimpleNamespace(number=2, state="draft", rows=[stored], receipt_number=None, submitted_at=None)
    person = SimpleNamespace(role="secondary")
    common = {"report": report, "period": period, "status_labels": STATUS_LABELS}
    return {
        f"{prefix}reports/index.html": lambda: {"periods": [(period, None)], "reports": [report], "today": NOW.date(),
                                                "period_of": {1: period}, "start_form": StartForm(), "service": service,
                                                "row_counts": {}},
        f"{prefix}reports/report.html": lambda: {
            **common, "version": correction, "service": service, "is_draft": True, "person": person, "lapsed": False,
            "last_submitted": submitted,
            "upload_form": UploadForm(formdata=None, revision=3), "action_form": RevisionForm(formdata=None, revision=3),
            "upload_errors": [(3, "L'IUC doit compter 8 ou 10 chiffres.")], "message": None, "max_mb": "2",
            "max_rows": 5000},
        f"{prefix}reports/row_form.html": lambda: {
            **common, "form": RowForm(formdata=None, revision=3), "row": None, "errors": {}, "problems": [],
            "message": None, "field_labels": FIELD_LABELS, "statuses": STATUSES, "needs_date": NEEDS_DATE,
            "needs_note": NEEDS_NOTE},
        f"{prefix}reports/review.html": lambda: {**common, "version": version, "person": person, "lapsed": False,
                                                 "form": RevisionForm(formdata=None, revision=3), "message": None},
        f"{prefix}reports/version.html": lambda: {**common, "version": submitted, "just_submitted": True,
                                                  "can_correct": True, "deadline": NOW, "lapsed": False,
                                                  "action_form": RevisionForm(formdata=None, revision=3)},
        f"{prefix}reports/forbidden.html": lambda: {"report": report},
        f"{prefix}reports/file_refused.html": lambda: {"message": "Le fichier est trop volumineux.",
                                                       "back_url": "/reports/p1"},
    }
