"""`idp audit export --since ... --format jsonl` (issue 15): the security events for a SIEM,
one JSON object per line, oldest first, streamed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import event as sqlalchemy_event

from idp.audit import EventTag, record_event
from idp.cli import main as cli
from idp.extensions import db
from idp.ops.services import export_events


def record(app, when: datetime, tag=EventTag.SIGNIN_FAILURE, **details) -> None:
    with app.app_context():
        record_event(db.session, lambda: when, tag, ip_address="192.0.2.7", user_agent="Navigateur/1.0", **details)
        db.session.commit()


def export(app, *args: str):
    return CliRunner().invoke(cli, ["audit", "export", *args], obj=app)


def test_export_prints_one_json_object_per_event_in_the_window(app):
    start = datetime(2026, 12, 1, tzinfo=UTC)
    record(app, start - timedelta(seconds=1), reason="before")
    record(app, start, reason="first")
    record(app, start + timedelta(hours=1), tag=EventTag.ACCOUNT_LOCKED, reason="second")
    record(app, start + timedelta(days=1), reason="after")
    result = export(app, "--since", "2026-12-01T00:00:00Z", "--until", "2026-12-02", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    events = [json.loads(line) for line in lines]
    assert [event["details"]["reason"] for event in events] == ["first", "second"]
    assert events[1]["tag"] == "account:signin:locked" and events[1]["ip_address"] == "192.0.2.7"
    assert events[0]["time"] == "2026-12-01T00:00:00+00:00"
    assert set(events[0]) == {"id", "time", "tag", "user_id", "ip_address", "user_agent", "details"}


def test_export_without_until_runs_to_now(app):
    record(app, datetime(2026, 12, 1, tzinfo=UTC))
    result = export(app, "--since", "2026-11-30")
    assert result.exit_code == 0 and len(result.output.splitlines()) == 1


def test_export_refuses_a_date_that_is_not_iso_8601(app):
    result = export(app, "--since", "yesterday")
    assert result.exit_code == 2 and "ISO 8601" in result.output


def test_export_reads_in_batches_not_all_at_once(app):
    """Streaming: a bounded SELECT per batch, whatever the number of events."""
    start = datetime(2026, 12, 1, tzinfo=UTC)
    with app.app_context():
        for index in range(25):
            record_event(db.session, lambda index=index: start + timedelta(seconds=index), EventTag.SIGNIN_FAILURE, n=index)
        db.session.commit()
        statements = []
        listener = lambda *args: statements.append(args[2])
        sqlalchemy_event.listen(db.engine, "before_cursor_execute", listener)
        try:
            exported = [event["details"]["n"] for event in export_events(db.session, start, None, batch=10)]
        finally:
            sqlalchemy_event.remove(db.engine, "before_cursor_execute", listener)
    assert exported == list(range(25))
    selects = [statement for statement in statements if "security_events" in statement]
    assert len(selects) == 3 and all("LIMIT" in statement.upper() for statement in selects)
