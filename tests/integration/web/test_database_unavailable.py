"""A database that is locked, read-only or unreachable is a prompt 503 with Retry-After:
a translated "try again" page for people, `temporarily_unavailable` JSON for machines
(issue 9, item 10). It was a 500 after 5.7 s (SQLite's 5 s busy timeout)."""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager

import pytest

from idp import create_app
from idp.config import DEFAULTS
from idp.extensions import db
from tests.conftest import BufferedClient, is_postgres
from tests.integration.test_headers import assert_baseline
from tests.oidc_support import authorization_params, basic_auth, make_client
from tests.support import free_port

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}
# config/test.toml lets the race tests wait longer; these tests check the production default.
LOCK_TIMEOUT = {"DATABASE_LOCK_TIMEOUT_MS": DEFAULTS["DATABASE_LOCK_TIMEOUT_MS"]}
pytestmark = pytest.mark.settings(**LOCK_TIMEOUT)


def test_the_default_lock_timeout_is_short():
    assert DEFAULTS["DATABASE_LOCK_TIMEOUT_MS"] <= 500


@pytest.fixture
def rp(app):
    return make_client(app, grant_types=("authorization_code", "client_credentials"))


@pytest.fixture
def sqlite_path(database_uri):
    if is_postgres(database_uri):
        pytest.skip("SQLite's own locks and files; PostgreSQL's lock_timeout is set the same way")
    return database_uri.removeprefix("sqlite:///")


@pytest.fixture
def locked(sqlite_path, app):
    """Another process holds SQLite's write lock for the whole test."""
    with app.app_context():
        db.engine.dispose()
    holder = sqlite3.connect(sqlite_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield
    holder.execute("ROLLBACK")
    holder.close()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_json_503(response, seconds):
    assert response.status_code == 503
    assert response.get_json() == {"error": "temporarily_unavailable"}
    assert int(response.headers["Retry-After"]) > 0
    assert_baseline(response)
    assert seconds < 1, f"answered after {seconds:.2f} s"


def assert_page_503(response, seconds, language):
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    assert_baseline(response)
    assert f'<html lang="{language}">' in response.text
    assert seconds < 1, f"answered after {seconds:.2f} s"


def test_a_locked_database_gives_the_token_endpoint_a_prompt_json_503(rp, client, locked):
    response, seconds = timed(lambda: client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp)))
    assert_json_503(response, seconds)


@pytest.mark.parametrize(("language", "title"), [("en", "Service busy"), ("fr", "Service occupé")])
def test_a_locked_database_gives_pages_a_prompt_translated_503(rp, client, locked, language, title):
    client.set_cookie("passerelle_lang", language)
    response, seconds = timed(lambda: client.get("/authorize", query_string=authorization_params(rp)))
    assert_page_503(response, seconds, language)
    assert title in response.text


def test_the_session_is_rolled_back_and_the_next_request_works_once_the_lock_is_gone(app, rp, client, sqlite_path):
    with app.app_context():
        db.engine.dispose()
    holder = sqlite3.connect(sqlite_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    assert client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp)).status_code == 503
    holder.execute("ROLLBACK")
    holder.close()
    assert client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp)).status_code == 200


def unavailable_app(uri, clock):
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, **LOCK_TIMEOUT}, clock=clock)
    app.test_client_class = BufferedClient
    return app


def test_a_read_only_database_gives_a_prompt_503(rp, sqlite_path, clock):
    read_only = unavailable_app(f"sqlite:///file:{sqlite_path}?mode=ro&uri=true", clock)
    client = read_only.test_client()
    response, seconds = timed(lambda: client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp)))
    assert_json_503(response, seconds)
    client.set_cookie("passerelle_lang", "en")
    response, seconds = timed(lambda: client.get("/authorize", query_string=authorization_params(rp)))
    assert_page_503(response, seconds, "en")


def test_a_database_that_cannot_be_opened_gives_503_on_pages_and_machine_endpoints(tmp_path, clock):
    client = unavailable_app(f"sqlite:///{tmp_path / 'missing' / 'passerelle.sqlite3'}", clock).test_client()
    for call in (lambda: client.get("/jwks"), lambda: client.get("/userinfo", headers={"Authorization": "Bearer x"}),
                 lambda: client.post("/token", data=CLIENT_CREDENTIALS, headers={"Authorization": "Basic eDp5"})):
        assert_json_503(*timed(call))
    client.set_cookie("passerelle_lang", "fr")
    response, seconds = timed(lambda: client.get("/authorize", query_string={
        "client_id": "x", "response_type": "code", "scope": "openid", "redirect_uri": "https://rp.example/callback"}))
    assert_page_503(response, seconds, "fr")


def test_a_postgresql_server_that_refuses_connections_gives_a_prompt_503(clock):
    # Nothing listens on a port just found free: the connection is refused at once.
    client = unavailable_app(f"postgresql+psycopg://passerelle@127.0.0.1:{free_port()}/passerelle", clock).test_client()
    assert_json_503(*timed(lambda: client.get("/jwks")))
    assert_json_503(*timed(lambda: client.post("/token", data=CLIENT_CREDENTIALS, headers={"Authorization": "Basic eDp5"})))
    client.set_cookie("passerelle_lang", "en")
    response, seconds = timed(lambda: client.get("/authorize", query_string={
        "client_id": "x", "response_type": "code", "scope": "openid", "redirect_uri": "https://rp.example/callback"}))
    assert_page_503(response, seconds, "en")
    assert "Service busy" in response.text


def connection_lost(kind: str) -> Exception:
    """What SQLAlchemy raises when the server goes away mid-request, besides OperationalError:
    a closed connection (InterfaceError, invalidated) or a session that cannot reconnect
    until its dead transaction is rolled back. The cluster test met one as a 500."""
    from sqlalchemy.exc import InterfaceError, PendingRollbackError

    if kind == "interface":
        return InterfaceError("SELECT 1", {}, Exception("the connection is closed"), connection_invalidated=True)
    return PendingRollbackError("Can't reconnect until invalid transaction is rolled back.")


@contextmanager
def statements_fail(app, error: Exception):
    """Every statement the app sends raises error, whichever path (lean or Authlib's) sends it."""
    from sqlalchemy import event

    def fail(*args, **kwargs):
        raise error

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", fail)


@pytest.mark.parametrize("kind", ["interface", "pending_rollback"])
def test_a_connection_lost_mid_request_is_a_503_not_a_500(app, rp, client, kind):
    with statements_fail(app, connection_lost(kind)):
        response, seconds = timed(lambda: client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp)))
    assert_json_503(response, seconds)
    assert client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp)).status_code == 200


def fails_once(monkeypatch, target, name: str, error: Exception):
    """Make target.name raise error on its first call only, as a connection that died
    between a request's last query and the end of the request does."""
    original = getattr(target, name)
    calls = []

    def patched(self, *args, **kwargs):
        calls.append(name)
        if len(calls) == 1:
            raise error
        return original(self, *args, **kwargs)

    monkeypatch.setattr(target, name, patched)
    return calls


def admin_shutdown() -> Exception:
    from sqlalchemy.exc import OperationalError

    return OperationalError("ROLLBACK", {}, Exception("terminating connection due to administrator command"))


def test_a_connection_lost_when_the_request_ends_does_not_turn_its_answer_into_a_500(rp, client, monkeypatch):
    """The cluster test's last 500: PostgreSQL went down after the request's last query, and
    closing the session at teardown raised out of the WSGI call."""
    from sqlalchemy.orm import Session

    calls = fails_once(monkeypatch, Session, "close", admin_shutdown())
    response = client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp))
    assert response.status_code == 200
    assert len(calls) >= 2  # closed again after the failure: the next request gets a fresh session
    monkeypatch.undo()
    assert client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp)).status_code == 200


def test_a_503_stays_a_503_when_rolling_back_and_closing_fail_too(app, rp, client, monkeypatch):
    from sqlalchemy.orm import Session

    fails_once(monkeypatch, Session, "rollback", admin_shutdown())
    fails_once(monkeypatch, Session, "close", admin_shutdown())
    with statements_fail(app, admin_shutdown()):
        response, seconds = timed(lambda: client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp)))
    assert_json_503(response, seconds)
    monkeypatch.undo()
    assert client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp)).status_code == 200
