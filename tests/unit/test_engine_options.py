"""The engine options idp.db.engine_options derives from the settings for each database."""

from __future__ import annotations

from idp.db import engine_options
from idp.defaults import DEFAULTS
from idp.sqlite_writers import QueuedWritersConnection

OPTIONS = DEFAULTS["SQLALCHEMY_ENGINE_OPTIONS"]


def test_postgresql_pings_a_pooled_connection_before_using_it_and_waits_briefly_for_locks():
    options = engine_options("postgresql+psycopg://db/passerelle", OPTIONS, 250)
    assert options["pool_pre_ping"] is True
    assert options["connect_args"] == {"options": "-c lock_timeout=250"}


def test_sqlite_sends_no_ping_since_a_file_never_drops_a_connection():
    """The ping is a SELECT 1 on every request: a tenth of a token request's CPU on SQLite."""
    options = engine_options("sqlite:///var/passerelle.sqlite3", OPTIONS, 250)
    assert options["pool_pre_ping"] is False
    assert options["connect_args"] == {"timeout": 0.25, "factory": QueuedWritersConnection}


def test_the_settings_are_not_changed_in_place():
    engine_options("sqlite:///x.sqlite3", OPTIONS, 250)
    assert OPTIONS == {"pool_pre_ping": True}
