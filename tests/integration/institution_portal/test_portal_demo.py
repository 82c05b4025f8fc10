"""`python -m clients.institution_portal demo` (make run): the demo DLI of `idp demo --json`
in Ontario with a reporting period open today, whatever the date; run again, nothing doubles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from clients.institution_portal.db import db as portal_db
from clients.institution_portal.demo import demo
from clients.institution_portal.institutions.models import Institution
from clients.institution_portal.periods.models import ReportingPeriod
from clients.institution_portal.periods.services import PeriodService
from tests.institution_portal_periods_support import build_portal_with_clock
from tests.support import FrozenClock

DEMO = {"organization_id": "ktaG5rX7ejWqA7vJ", "organization_number": "O123456789012",
        "organization_name": "Collège Imaginaire", "organization_name_en": "Imaginary College"}


@pytest.mark.parametrize("moment", [datetime(2026, 12, 7, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC),
                                    datetime(2027, 3, 31, tzinfo=UTC)])
def test_the_demo_dli_is_in_ontario_with_a_period_open_today_and_a_second_run_adds_nothing(tmp_path, moment):
    clock = FrozenClock(moment)
    app = build_portal_with_clock("http://127.0.0.1:5000", SimpleNamespace(client_id="c", client_secret="s"),
                                  tmp_path / "portal.db", clock)
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(DEMO))
    assert demo(app, [str(path)]) == 0
    clock.advance(hours=1)
    assert demo(app, [str(path)]) == 0
    with app.app_context():
        assert portal_db.session.scalar(select(func.count()).select_from(Institution)) == 1
        assert portal_db.session.scalar(select(func.count()).select_from(ReportingPeriod)) == 1
        institution = portal_db.session.scalar(select(Institution))
        assert (institution.province, institution.name_en) == ("ON", "Imaginary College")
        status = PeriodService(portal_db.session, app.extensions["institution_portal"].settings, clock).status(
            "ktaG5rX7ejWqA7vJ")
        assert status.kind == "open" and status.days_left > 0


def test_the_demo_says_which_file_it_could_not_read(tmp_path, capsys):
    app = build_portal_with_clock("http://127.0.0.1:5000", SimpleNamespace(client_id="c", client_secret="s"),
                                  tmp_path / "portal.db", FrozenClock())
    assert demo(app, [str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err
