"""Fixtures: a fresh database per test (SQLite, or PostgreSQL with --db-url), the app, its
test client, an injected clock and a live server on loopback."""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ProgrammingError

from flask.testing import FlaskClient

from idp import create_app
from idp.extensions import db
from idp.mail.delivery import sender as mail_sender
from idp.mail.devbox import Mailbox, SmtpServer
from tests.support import FrozenClock, LiveServer, free_port

TEST_CONFIG = Path(__file__).resolve().parent.parent / "config" / "test.toml"
os.environ["IDP_CONFIG"] = str(TEST_CONFIG)


def pytest_addoption(parser):
    parser.addoption(
        "--db-url",
        default=None,
        help="run the suite on this PostgreSQL database (tests/pg.sh starts a throwaway one)",
    )


def pytest_report_header(config):
    return f"database: {config.getoption('--db-url') or 'a fresh SQLite file per test'}"


def is_postgres(database_uri: str) -> bool:
    return database_uri.startswith("postgresql")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def database_uri(request, tmp_path) -> str:
    url = request.config.getoption("--db-url")
    return url or f"sqlite:///{tmp_path / 'passerelle.sqlite3'}"


def _settings_marker(request) -> dict:
    marker = request.node.get_closest_marker("settings")
    return dict(marker.kwargs) if marker else {}


# One real SMTP server on loopback for the whole run (design.md, Testing): every app sends
# its mail there, and the `mailbox` fixture empties it before each test that reads it.
_smtp_server: SmtpServer | None = None


def smtp_server() -> SmtpServer:
    global _smtp_server
    if _smtp_server is None:
        _smtp_server = SmtpServer(Mailbox(), free_port()).start()
    return _smtp_server


def pytest_sessionfinish(session, exitstatus):
    if _smtp_server is not None:
        _smtp_server.stop()


# PostgreSQL engines that opened a connection during the current test.
_postgres_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


@event.listens_for(Engine, "engine_connect")
def _remember_postgres_engine(connection) -> None:
    if connection.engine.dialect.name == "postgresql":
        _postgres_engines.add(connection.engine)


@pytest.fixture(autouse=True)
def _close_postgres_connections():
    """Close the pooled connections of every PostgreSQL engine a test used, the second
    hosts it built included. An app dropped with its pool still open leaves psycopg
    connections for the garbage collector, whose ResourceWarning then fails whichever later
    test is running (seen on CI in an unrelated seed test)."""
    yield
    for engine in list(_postgres_engines):
        engine.dispose()
    _postgres_engines.clear()


@pytest.fixture
def mailbox() -> Mailbox:
    """What the app sent during this test, received over real SMTP on 127.0.0.1."""
    box = smtp_server().mailbox
    # An earlier test's mail still in the sender thread would otherwise land in this one.
    mail_sender.wait_until_idle()
    box.clear()
    return box


class BufferedClient(FlaskClient):
    """Consumes and closes each response like a real server does, then waits for the mail
    that call_on_close handed to the sender thread, so it is sent before the test reads it."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        response = super().open(*args, **kwargs)
        assert mail_sender.wait_until_idle(), "the mail sender thread is still busy after 30 s"
        return response


def build_app(database_uri: str, clock, issuer: str = "http://127.0.0.1:5000", **overrides):
    if is_postgres(database_uri):
        # A connection left open by an earlier test would make the reset wait forever: fail
        # after 30 s instead, naming the lock.
        overrides.setdefault(
            "SQLALCHEMY_ENGINE_OPTIONS",
            {"pool_pre_ping": True, "connect_args": {"options": "-c lock_timeout=30000"}},
        )
    overrides.setdefault("SMTP_PORT", smtp_server().port)
    overrides.setdefault("SMTP_HOST", "127.0.0.1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri, "OIDC_ISSUER": issuer, **overrides}, clock=clock)
    app.test_client_class = BufferedClient
    with app.app_context():
        reset_database(database_uri)
    return app


# PostgreSQL databases whose tables this process has created from the current models.
_postgres_schema_ready: set[str] = set()


def reset_database(database_uri: str) -> None:
    """Leave every table empty. SQLite gets a new file per test, so it is created afresh.

    One PostgreSQL database serves the whole run: its tables are created once per run, then
    emptied before each test by a DELETE per table (dependents first) and its sequences
    restarted. A test leaves a few rows, so that is about 5 ms, where TRUNCATE ... RESTART
    IDENTITY, which rewrites every table's files, took 135 ms: nine minutes of a run. A test
    that dropped tables (migrations, CLI) makes a DELETE fail, and the schema is rebuilt.
    """
    if is_postgres(database_uri) and database_uri in _postgres_schema_ready:
        try:
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.execute(text("SELECT setval(oid, 1, false) FROM pg_class "
                                    "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"))
            db.session.commit()
            return
        except ProgrammingError:
            db.session.rollback()
    db.drop_all()
    db.create_all()
    if is_postgres(database_uri):
        _postgres_schema_ready.add(database_uri)


@pytest.fixture
def app(request, database_uri, clock):
    app = build_app(database_uri, clock, **_settings_marker(request))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_server(request, database_uri, clock):
    """The IdP served over real HTTP, its issuer matching its port."""
    server = LiveServer()
    app = build_app(database_uri, clock, issuer=server.url, **_settings_marker(request))
    server.start(app)
    yield server
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
