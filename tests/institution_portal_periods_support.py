"""The institution portal's database for the periods tests, on SQLite or, with --db-url, on
PostgreSQL in a schema of its own (the portal's table names may repeat Passerelle's, e.g.
terms_acceptances, which shares that database), and a stand-in for Passerelle's
organizations API where a test needs no live Passerelle."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine, text

import clients.institution_portal.models  # noqa: F401 (every table)
from clients.institution_portal import create_app
from clients.institution_portal.db import Base
from clients.institution_portal.db import db as portal_db
from tests.institution_portal_support import PORTAL_ORIGIN, SECRET_KEY

PG_SCHEMA = "institution_portal_tests"


def portal_engine(request, tmp_path):
    """A fresh portal schema; the caller disposes of the engine (drop_portal_schema)."""
    url = request.config.getoption("--db-url")
    if not url:
        engine = create_engine(f"sqlite:///{tmp_path / 'portal.sqlite3'}", connect_args={"timeout": 30})
        Base.metadata.create_all(engine)
        return engine
    _in_database(url, f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE", f"CREATE SCHEMA {PG_SCHEMA}")
    engine = create_engine(url, connect_args={"options": f"-c search_path={PG_SCHEMA} -c lock_timeout=30000"})
    Base.metadata.create_all(engine)
    return engine


def drop_portal_schema(engine) -> None:
    if engine.dialect.name == "postgresql":
        engine.dispose()
        _in_database(engine.url, f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
    engine.dispose()


def _in_database(url, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def build_portal_with_clock(issuer, registration, path, clock, **overrides):
    """The portal on a fresh SQLite file with an injected clock, its tables made from the models."""
    app = create_app({"PORTAL_ENV": "development", "PORTAL_ISSUER": issuer, "PORTAL_CLIENT_ID": registration.client_id,
                      "PORTAL_CLIENT_SECRET": registration.client_secret, "PORTAL_BASE_URL": PORTAL_ORIGIN,
                      "PORTAL_SECRET_KEY": SECRET_KEY, "PORTAL_DATABASE_URL": f"sqlite:///{path}", **overrides},
                     clock=clock, environ={})
    with app.app_context():
        portal_db.create_all()
    return app


@dataclass(frozen=True)
class Org:
    id: str
    number: str
    name_fr: str = "Collège Imaginaire"
    name_en: str = "Imaginary College"
    kind: str = "dli"
    state: str = "active"


@dataclass(frozen=True)
class Person:
    email: str
    role: str = "primary"
    state: str = "active"
    locale: str | None = None


class Directory:
    """Passerelle's organizations API as the run reads it: organizations and their members."""

    def __init__(self, organizations=(), members=None):
        self.organizations = list(organizations)
        self.members = dict(members or {})
        self.calls = 0

    def list_organizations(self):
        return list(self.organizations)

    def list_members(self, organization_id):
        self.calls += 1
        return list(self.members.get(organization_id, []))
