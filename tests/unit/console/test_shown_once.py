"""A secret held for the one page that shows it (idp.console.shown_once), and a form's receipt:
for the session that made it, once, for HOLD_FOR at most, encrypted meanwhile; a form's id kept
for FORM_LIFETIME, so that the form sent again makes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from idp.console.models import ConsoleSecretDisplay
from idp.console.shown_once import HOLD_FOR, ShownOnce
from idp.context import app_context
from idp.extensions import db
from idp.oidc.models import Client
from idp.signin.sessions import SessionService
from tests.oidc_support import make_client, make_user


def held(app) -> tuple[ShownOnce, int, int, int]:
    """The service, two sessions of one operator and a client's primary key."""
    user_id = make_user(app, "ops@example.ca")
    rp = make_client(app)
    ctx = app_context()
    sessions = SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher)
    first, _ = sessions.create(user_id, ["pwd", "hwk", "mfa"], "mfa-phr", ctx.clock(), "Mozilla/5.0")
    second, _ = sessions.create(user_id, ["pwd", "hwk", "mfa"], "mfa-phr", ctx.clock(), "Mozilla/5.0")
    client_pk = db.session.scalar(select(Client.id).where(Client.client_id == rp.client_id))
    return ShownOnce(db.session, ctx.clock, ctx.secret_box), first.id, second.id, client_pk


def test_the_secret_is_read_once_by_its_session_only(app):
    with app.app_context():
        shown, session_id, other_id, client_pk = held(app)
        shown.hold(session_id, "s3cret-value", client_pk=client_pk)
        sealed = db.session.scalar(select(ConsoleSecretDisplay.secret_encrypted))
        assert b"s3cret-value" not in sealed
        assert shown.take(other_id, client_pk=client_pk) is None
        assert shown.take(session_id, client_pk=client_pk) == "s3cret-value"
        assert shown.take(session_id, client_pk=client_pk) is None


def test_a_secret_nobody_came_for_expires_and_is_dropped(app, clock):
    with app.app_context():
        shown, session_id, other_id, client_pk = held(app)
        shown.hold(session_id, "first", client_pk=client_pk)
        clock.advance(HOLD_FOR.total_seconds() + 1)
        assert shown.take(session_id, client_pk=client_pk) is None
        shown.hold(session_id, "second", client_pk=client_pk)
        clock.advance(HOLD_FOR.total_seconds() + 1)
        shown.hold(other_id, "third", client_pk=client_pk)  # drops the stale one
        assert db.session.scalar(select(func.count(ConsoleSecretDisplay.id))) == 1
        assert shown.take(other_id, client_pk=client_pk) == "third"


def test_a_forms_receipt_outlives_its_secret_for_the_forms_lifetime(app, clock):
    from idp.console.shown_once import FORM_LIFETIME

    with app.app_context():
        shown, session_id, other_id, client_pk = held(app)
        shown.hold(session_id, "rotated", client_pk=client_pk, form_id="form-1")
        assert shown.take(session_id, client_pk=client_pk) is None  # a registration's page: not this one
        assert shown.take(session_id, client_pk=client_pk, from_form=True) == "rotated"
        assert shown.take(session_id, client_pk=client_pk, from_form=True) is None
        assert shown.receipt("form-1").client_pk == client_pk  # the form made something: no second time
        shown.hold(session_id, "unread", client_pk=client_pk, form_id="form-2")
        clock.advance(HOLD_FOR.total_seconds() + 1)
        shown.hold(other_id, "later", client_pk=client_pk, form_id="form-3")  # wipes the unread secret
        assert db.session.scalar(select(ConsoleSecretDisplay.secret_encrypted).where(
            ConsoleSecretDisplay.form_id == "form-2")) is None
        assert shown.receipt("form-2") is not None
        clock.advance(FORM_LIFETIME.total_seconds() + 1)
        shown.hold(other_id, "last", client_pk=client_pk, form_id="form-4")
        assert shown.receipt("form-1") is None and shown.receipt("form-3") is None
        assert shown.receipt("form-4") is not None
