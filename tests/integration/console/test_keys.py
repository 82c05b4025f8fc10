"""Signing keys in the console (issue 16): operators only (a service-desk agent gets the 403
page, audited), each key's state and dates and never its private part, and a rotation with
a reason, behind the key asked again, through the same service as `idp keys rotate`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.console.roles import OPERATOR, SERVICE_DESK
from idp.context import app_context
from idp.extensions import db
from idp.oidc.keys import KeyService
from idp.oidc.models import SigningKey
from tests.console_support import make_agent, sign_in_as
from tests.oidc_support import csrf_token


@pytest.fixture
def operator_id(app):
    return make_agent(app, "ops@example.ca", OPERATOR)


@pytest.fixture
def keys(app):
    with app.app_context():
        ctx = app_context()
        KeyService(db.session, ctx.settings, ctx.clock, ctx.secret_box).ensure_keys()
        db.session.commit()
        return {key.kid: key.private_key_encrypted for key in db.session.scalars(select(SigningKey))}


def events(app, tag: EventTag) -> list[SecurityEvent]:
    with app.app_context():
        return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(tag))))


def test_service_desk_gets_a_403_page_on_keys(app, client, keys):
    desk_id = make_agent(app, "desk@example.ca", SERVICE_DESK)
    sign_in_as(app, client, desk_id)
    for path in ("/admin/keys", "/admin/keys/rotate"):
        page = client.get(path)
        assert page.status_code == 403 and "Not part of your role" in page.text
    page = client.get("/admin/")
    assert client.post("/admin/keys/rotate", data={"csrf_token": csrf_token(page.text), "reason": "x"}).status_code == 403
    assert "Signing keys" not in page.text
    refused = events(app, EventTag.CONSOLE_ACCESS_REFUSED)
    assert len(refused) == 3 and refused[0].details["agent_id"] == desk_id
    with app.app_context():
        assert len(db.session.scalars(select(SigningKey)).all()) == 2  # nothing rotated


def test_operator_sees_the_keys_and_never_their_private_part(app, client, operator_id, keys):
    sign_in_as(app, client, operator_id)
    page = client.get("/admin/keys")
    assert page.status_code == 200
    assert "Signing keys" in client.get("/admin/").text
    for kid, private in keys.items():
        assert kid in page.text
        assert private.decode(errors="ignore")[:40] not in page.text
    assert "ES256" in page.text and "RS256" in page.text and "Active (signs new tokens)" in page.text
    assert "PRIVATE KEY" not in page.text and '"d"' not in page.text


def test_operator_rotates_with_a_reason_behind_the_key(app, client, operator_id, keys, clock):
    sign_in_as(app, client, operator_id)
    form = client.get("/admin/keys/rotate")
    assert form.status_code == 200
    empty = client.post("/admin/keys/rotate", data={"csrf_token": csrf_token(form.text), "reason": "  "})
    assert empty.status_code == 422 and "Write the reason for this action" in empty.text
    no_csrf = client.post("/admin/keys/rotate", data={"reason": "Rotation annuelle"})
    assert no_csrf.status_code == 400
    done = client.post("/admin/keys/rotate", data={"csrf_token": csrf_token(form.text), "reason": "Rotation annuelle"})
    assert done.status_code == 303 and done.headers["Location"] == "/admin/keys?done=rotate"
    page = client.get(done.headers["Location"])
    assert "New keys are published" in page.text and "Next (published, not signing yet)" in page.text
    with app.app_context():
        rows = db.session.scalars(select(SigningKey).order_by(SigningKey.id)).all()
        assert len(rows) == 4 and all(row.superseded_at is not None for row in rows[:2])
        assert rows[2].activates_at > clock()  # published ahead, as `idp keys rotate`
    [event] = events(app, EventTag.CONSOLE_KEYS_ROTATED)
    assert event.details["agent_id"] == operator_id and event.details["reason"] == "Rotation annuelle"
    assert event.details["immediately"] is False and len(event.details["kids"]) == 2
    # The key touch is spent: rotating again asks for it first.
    assert client.get("/admin/keys/rotate").headers["Location"] == "/signin/second-factor"


def test_emergency_rotation_signs_at_once(app, client, operator_id, keys, clock):
    sign_in_as(app, client, operator_id)
    form = client.get("/admin/keys/rotate")
    done = client.post("/admin/keys/rotate", data={"csrf_token": csrf_token(form.text), "reason": "Clé exposée",
                                                   "immediately": "y"})
    assert done.status_code == 303
    with app.app_context():
        newest = db.session.scalars(select(SigningKey).order_by(SigningKey.id.desc())).first()
        assert newest.activates_at == clock()
    assert events(app, EventTag.CONSOLE_KEYS_ROTATED)[0].details["immediately"] is True


def test_a_stale_key_touch_is_asked_again_before_rotating(app, client, operator_id, keys):
    sign_in_as(app, client, operator_id, key_age=6 * 60)  # console open, key older than 5 minutes
    assert client.get("/admin/keys").status_code == 200
    assert client.get("/admin/keys/rotate").headers["Location"] == "/signin/second-factor"
