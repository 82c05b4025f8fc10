"""The demo (`python -m clients.institution_portal demo`, make run) adds three letters of
acceptance for the demo DLI; a second run adds nothing; home shows them waiting."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select

from clients.institution_portal.db import db
from clients.institution_portal.demo import demo
from clients.institution_portal.letters.demo import DEMO_LETTERS
from clients.institution_portal.letters.models import AcceptanceLetter
from tests.institution_portal_reports_support import build_reports_portal, sign_in
from tests.integration.institution_portal.test_reports_demo import DEMO
from tests.support import FrozenClock


def test_the_demo_has_letters_to_verify_once(tmp_path):
    clock = FrozenClock(datetime(2026, 12, 7, 10, tzinfo=UTC))
    app = build_reports_portal(tmp_path / "portal.db", clock)
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(DEMO))
    assert demo(app, [str(path)]) == 0
    assert demo(app, [str(path)]) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AcceptanceLetter)) == len(DEMO_LETTERS)
    client = sign_in(app, app.test_client(), DEMO["organization_id"], "secondary", "demo-secondary",
                     number=DEMO["organization_number"])
    home = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"Letters of acceptance waiting for verification: {len(DEMO_LETTERS)}." in home
