"""The demo (`python -m clients.institution_portal demo`, make run) adds a draft report with
a few students in the demo period; a second run adds nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from clients.institution_portal.db import db
from clients.institution_portal.demo import demo
from clients.institution_portal.reports.demo import DEMO_STUDENTS
from clients.institution_portal.reports.models import ComplianceReport, ReportRow
from tests.institution_portal_reports_support import build_reports_portal, sign_in
from tests.support import FrozenClock

DEMO = {"organization_id": "ktaG5rX7ejWqA7vJ", "organization_number": "O123456789012",
        "organization_name": "Collège Imaginaire", "organization_name_en": "Imaginary College"}


def test_the_demo_has_a_draft_report_with_students_once(tmp_path):
    clock = FrozenClock(datetime(2026, 12, 7, 10, tzinfo=UTC))
    app = build_reports_portal(tmp_path / "portal.db", clock)
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(DEMO))
    assert demo(app, [str(path)]) == 0
    assert demo(app, [str(path)]) == 0
    with app.app_context():
        report = db.session.scalar(select(ComplianceReport))
        assert report.organization_id == DEMO["organization_id"] and report.versions[0].state == "draft"
        assert db.session.scalar(select(func.count()).select_from(ReportRow)) == len(DEMO_STUDENTS)
        public_id = report.public_id
    client = sign_in(app, app.test_client(), DEMO["organization_id"], "primary", "demo-primary")
    page = client.get(f"/reports/{public_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert all(student["student_number"] in page for student in DEMO_STUDENTS)
