"""The audit log in the console (issue 16): operators only, filtered by person, agent, event
type and time, newest first a page at a time, exported as JSON lines in the format of `idp
audit export`; looking and exporting are events themselves; bad filters are a form message;
nothing secret appears."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent, record_event
from idp.cli import main as cli
from idp.console.roles import OPERATOR, SERVICE_DESK
from idp.extensions import db
from tests.console_support import PASSWORD, create_person, make_agent, sign_in_as
from tests.oidc_support import csrf_token

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def operator_id(app):
    return make_agent(app, "ops@example.ca", OPERATOR)


@pytest.fixture
def person_id(app):
    with app.app_context():
        user = create_person("zoe@example.ca")
        db.session.commit()
        return user.id


def record(app, when: datetime, tag: EventTag, user_id=None, **details) -> None:
    with app.app_context():
        record_event(db.session, lambda: when, tag, user_id=user_id, ip_address="192.0.2.7", **details)
        db.session.commit()


def events(app, tag: EventTag) -> list[SecurityEvent]:
    with app.app_context():
        # In the order they were recorded: without ORDER BY, PostgreSQL returns rows in the
        # order of the table's pages, which reuse space freed by earlier tests.
        return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(tag))
                                       .order_by(SecurityEvent.id)))


def search(client, **fields):
    page = client.get("/admin/audit")
    return client.post("/admin/audit", data={"csrf_token": csrf_token(page.text), **fields})


def shown_ids(html: str) -> list[str]:
    return re.findall(r"<code>([a-z_]+:[a-z_:]+)</code>", html)


def test_service_desk_gets_a_403_page_on_the_audit_log(app, client):
    desk_id = make_agent(app, "desk@example.ca", SERVICE_DESK)
    sign_in_as(app, client, desk_id)
    page = client.get("/admin/audit")
    assert page.status_code == 403 and "Not part of your role" in page.text
    home = client.get("/admin/")
    for path in ("/admin/audit", "/admin/audit/export"):
        assert client.post(path, data={"csrf_token": csrf_token(home.text)}).status_code == 403
    assert len(events(app, EventTag.CONSOLE_ACCESS_REFUSED)) == 3
    assert events(app, EventTag.CONSOLE_AUDIT_EXPORTED) == []


def test_the_log_is_newest_first_and_looking_is_recorded(app, client, operator_id, person_id):
    record(app, START, EventTag.SIGNIN_FAILURE, person_id)
    record(app, START + timedelta(hours=1), EventTag.ACCOUNT_LOCKED, person_id)
    record(app, START, EventTag.CONSOLE_PERSON_VIEWED, person_id, agent_id=operator_id, reason="<script>alert(1)</script>")
    sign_in_as(app, client, operator_id)
    page = client.get("/admin/audit")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text  # markup escaped
    shown = shown_ids(page.text)
    assert shown.index("account:signin:locked") < shown.index("account:signin:failure")
    assert "zoe@example.ca" in page.text and "192.0.2.7" in page.text
    [viewed] = events(app, EventTag.CONSOLE_AUDIT_VIEWED)
    assert viewed.user_id == operator_id and viewed.details["agent_id"] == operator_id and viewed.details["page"] == 1


def test_filters_by_person_agent_type_and_time(app, client, operator_id, person_id):
    other = make_agent(app, "other@example.ca", OPERATOR)
    record(app, START, EventTag.SIGNIN_FAILURE, person_id)
    record(app, START + timedelta(hours=1), EventTag.CONSOLE_PERSON_VIEWED, person_id, agent_id=other)
    record(app, START + timedelta(days=2), EventTag.ACCOUNT_LOCKED, person_id)
    record(app, START, EventTag.SIGNIN_FAILURE, None, reason="someone else")
    sign_in_as(app, client, operator_id)

    by_person = search(client, person="ZOE@example.ca ")
    assert by_person.status_code == 200
    assert sorted(shown_ids(by_person.text)) == ["account:signin:failure", "account:signin:locked", "console:person:viewed"]
    by_agent = search(client, agent="other@example.ca")
    assert shown_ids(by_agent.text) == ["console:person:viewed"] and "other@example.ca" in by_agent.text
    by_tag = search(client, tag="account:signin:failure")
    assert shown_ids(by_tag.text) == ["account:signin:failure", "account:signin:failure"]
    by_time = search(client, person="zoe@example.ca", since="2026-12-01 08:30", until="2026-12-02")
    assert shown_ids(by_time.text) == ["console:person:viewed"]
    by_zone = search(client, since="2026-12-01T04:30-04:00", until="2026-12-01T09:30Z", person="zoe@example.ca")
    assert shown_ids(by_zone.text) == ["console:person:viewed"]
    last = events(app, EventTag.CONSOLE_AUDIT_VIEWED)[-1]
    assert last.details["filters"] == {"person_id": person_id, "since": "2026-12-01T08:30:00+00:00",
                                       "until": "2026-12-01T09:30:00+00:00"}
    assert "zoe@example.ca" not in json.dumps(last.details)  # addresses stay out of the log


@pytest.mark.parametrize(("fields", "message"), [
    ({"person": "nobody@example.ca"}, "No account has this exact address."),
    ({"person": "zoe@"}, "No account has this exact address."),
    ({"agent": "x" * 400}, "Write at most 320 characters."),
    ({"tag": "account:everything"}, "Choose an event type from the list."),
    ({"since": "yesterday"}, "Enter a date like 2026-12-01"),
    ({"until": "2026-13-45"}, "Enter a date like 2026-12-01"),
    ({"since": "0001-01-01T00:00+05:00"}, "Enter a date like 2026-12-01"),
    ({"until": "9999-12-31T23:59-05:00"}, "Enter a date like 2026-12-01"),
    ({"since": "2026-12-02", "until": "2026-12-01"}, "This time must come after the start of the range."),
    ({"page": "0"}, "This page of results does not exist."),
    ({"page": "many"}, "This page of results does not exist."),
    ({"page": "999999"}, "This page of results does not exist."),
])
def test_bad_filters_are_a_form_message(app, client, operator_id, person_id, fields, message):
    sign_in_as(app, client, operator_id)
    response = search(client, **fields)
    assert response.status_code == 422 and message in response.text
    export = client.post("/admin/audit/export", data={"csrf_token": csrf_token(response.text), **fields})
    assert export.status_code in (200, 422)  # the page number means nothing to an export
    if "page" not in fields:
        assert export.status_code == 422 and message in export.text


def test_filters_need_the_csrf_token(app, client, operator_id):
    sign_in_as(app, client, operator_id)
    assert client.post("/admin/audit", data={"tag": "account:signin:failure"}).status_code == 400
    assert client.post("/admin/audit/export", data={}).status_code == 400
    assert events(app, EventTag.CONSOLE_AUDIT_EXPORTED) == []


def test_pages_of_fifty(app, client, operator_id, person_id):
    with app.app_context():
        for index in range(60):
            record_event(db.session, lambda index=index: START + timedelta(minutes=index), EventTag.SIGNIN_FAILURE,
                         user_id=person_id, n=index)
        db.session.commit()
    sign_in_as(app, client, operator_id)
    first = search(client, person="zoe@example.ca")
    assert "n: 59" in first.text and "n: 10<" in first.text and "n: 9<" not in first.text
    assert "Older events" in first.text and "Newer events" not in first.text
    second = client.post("/admin/audit", data={"csrf_token": csrf_token(first.text), "person": "zoe@example.ca", "page": "2"})
    assert second.status_code == 200 and "n: 9<" in second.text and "n: 0<" in second.text and "n: 10<" not in second.text
    assert "Older events" not in second.text and "Newer events" in second.text


def test_export_is_the_cli_format_for_the_filtered_events_and_is_recorded(app, client, operator_id, person_id):
    record(app, START, EventTag.SIGNIN_FAILURE, person_id)
    record(app, START + timedelta(hours=1), EventTag.ACCOUNT_LOCKED, person_id)
    record(app, START + timedelta(hours=2), EventTag.SIGNIN_FAILURE, None)
    sign_in_as(app, client, operator_id)
    page = client.get("/admin/audit")
    export = client.post("/admin/audit/export", data={"csrf_token": csrf_token(page.text), "person": "zoe@example.ca",
                                                      "until": "2026-12-02"})
    assert export.status_code == 200 and export.mimetype == "application/jsonl"
    assert export.headers["Content-Disposition"].startswith('attachment; filename="passerelle-audit-')
    lines = export.text.splitlines()
    assert [json.loads(line)["tag"] for line in lines] == ["account:signin:failure", "account:signin:locked"]  # oldest first
    cli_lines = CliRunner().invoke(cli, ["audit", "export", "--since", "2026-11-30", "--until", "2026-12-02"],
                                   obj=app).output.splitlines()
    assert set(lines) <= set(cli_lines)  # line for line the same text as the command's
    [exported] = events(app, EventTag.CONSOLE_AUDIT_EXPORTED)
    assert exported.details["agent_id"] == operator_id
    assert exported.details["filters"] == {"person_id": person_id, "until": "2026-12-02T00:00:00+00:00"}


def test_nothing_secret_appears_in_the_log_or_the_export(app, client, operator_id, mailbox):
    """Real events (a wrong password, a sign-in with the emailed code), then the page and the
    export: no password, code, hash, secret or session handle."""
    from tests.integration.signin.support import SignIn
    from tests.signin_support import latest_signin_code

    with app.app_context():
        create_person("zoe@example.ca")
        db.session.commit()
    visitor = SignIn(app.test_client(), "en")
    assert visitor.submit_password("zoe@example.ca", "wrong-Secret-Horse-42", visitor.start()).status_code == 422
    visitor.sign_in("zoe@example.ca", PASSWORD)
    secrets = ["wrong-Secret-Horse-42", PASSWORD, latest_signin_code("zoe@example.ca"), visitor.session_handle]
    with app.app_context():
        hashes = [value for row in db.session.execute(select(User.password_hash)).all() for value in row]
    sign_in_as(app, client, operator_id)
    shown = client.get("/admin/audit").text
    assert "account:signin:failure" in shown and "account:signin:success" in shown
    exported = client.post("/admin/audit/export", data={"csrf_token": csrf_token(shown)}).text
    for text in (shown, exported):
        for secret in (*secrets, *hashes, "$argon2"):
            assert secret and secret not in text
    for line in exported.splitlines():
        keys = set(json.loads(line)["details"])
        assert not keys & {"password", "code", "token", "secret", "otp", "code_hash", "password_hash", "handle"}
