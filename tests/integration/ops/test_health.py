"""/health/live and /health/ready (issue 15): JSON, 200 or 503, on the main app and the
management app, cheap (no cookie, no rate limit)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from idp import create_app
from idp.extensions import db
from idp.ops.management import create_management_app
from idp.ops.services import migration_heads
from tests.redis_support import redis_url  # noqa: F401  (fixture)
from tests.support import free_port


def stamp_head(app) -> None:
    """What `idp db upgrade` leaves: the tests build tables with create_all instead."""
    with app.app_context():
        db.session.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        db.session.execute(text("DELETE FROM alembic_version"))
        for head in migration_heads():
            db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
        db.session.commit()


@pytest.fixture
def other_app():
    """Apps a test builds itself, their connection pools closed afterwards."""
    built = []

    def build(factory=create_app, **overrides):
        built.append(factory(overrides))
        return built[-1]

    yield build
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_live_answers_json_without_a_cookie(client):
    response = client.get("/health/live")
    assert response.status_code == 200 and response.get_json() == {"status": "live"}
    assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"] == "no-store"


def test_ready_when_the_database_is_at_head(app, client):
    stamp_head(app)
    response = client.get("/health/ready")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


def test_not_ready_before_migrations(app, client):
    with app.app_context():  # a PostgreSQL run shares one database: start from none
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "migrations": "not migrated"}


def test_not_ready_behind_head(app, client):
    stamp_head(app)
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'an_older_one'"))
        db.session.commit()
    response = client.get("/health/ready")
    assert response.status_code == 503 and response.get_json()["checks"]["migrations"] == "not at head"


def test_not_ready_when_the_database_is_unreachable(tmp_path, other_app):
    app = other_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/folder/db.sqlite3")
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "checks": {"database": "unreachable", "migrations": "unknown"}}
    assert app.test_client().get("/health/live").status_code == 200


def test_not_ready_when_redis_is_configured_and_unreachable(app, database_uri, other_app):
    stamp_head(app)
    app = other_app(SQLALCHEMY_DATABASE_URI=database_uri, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0")
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503 and response.get_json()["checks"]["redis"] == "unreachable"


def test_ready_with_a_reachable_redis(app, database_uri, redis_url, other_app):  # noqa: F811
    stamp_head(app)
    app = other_app(SQLALCHEMY_DATABASE_URI=database_uri, RATELIMIT_STORAGE_URI=redis_url)
    response = app.test_client().get("/health/ready")
    assert response.status_code == 200 and response.get_json()["checks"]["redis"] == "ok"


def test_probes_are_not_rate_limited(client):
    assert {client.get("/health/live").status_code for _ in range(120)} == {200}


@pytest.mark.settings(MANAGEMENT_PORT=9102, METRICS_ALLOWED_ADDRESSES=["127.0.0.1"])
def test_management_app_serves_probes_and_metrics_the_main_port_does_not(app, client, database_uri, other_app):
    stamp_head(app)
    management = other_app(create_management_app, SQLALCHEMY_DATABASE_URI=database_uri, MANAGEMENT_PORT=9102,
                           METRICS_ALLOWED_ADDRESSES=["127.0.0.1"]).test_client()
    assert management.get("/health/live").status_code == 200
    assert management.get("/health/ready").status_code == 200
    assert b"passerelle_mail_outbox_depth" in management.get("/metrics").data
    assert client.get("/metrics").status_code == 404  # the management port has them
    assert client.get("/health/ready").status_code == 200  # probes stay on the main port too
    assert management.get("/signin").status_code == 404  # and nothing else is there
