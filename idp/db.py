"""Declarative base, constraint naming convention, UTC-aware timestamps and SQLite pragmas."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from idp.sqlite_writers import QueuedWritersConnection

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Store UTC, return aware datetimes: SQLite forgets the zone, PostgreSQL keeps it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def engine_options(uri: str, options: Mapping[str, Any], lock_timeout_ms: int) -> dict[str, Any]:
    """SQLALCHEMY_ENGINE_OPTIONS with a short wait for locks (setting DATABASE_LOCK_TIMEOUT_MS).

    A locked database then fails fast with OperationalError, which idp.web.errors answers
    503 "try again" (issue 9, item 10), instead of holding the request for seconds. SQLite:
    sqlite3's busy timeout, writers queued per process, no pre-ping; PostgreSQL:
    lock_timeout, unless connect_args already set options.
    """
    options = dict(options)
    connect_args = dict(options.get("connect_args") or {})
    if uri.startswith("sqlite"):
        connect_args.setdefault("timeout", lock_timeout_ms / 1000)
        # A process's writers queue in turn for the file's write lock (idp.sqlite_writers).
        connect_args.setdefault("factory", QueuedWritersConnection)
        # A file never drops a connection: the ping would be one more statement per request.
        options["pool_pre_ping"] = False
    elif uri.startswith("postgresql"):
        connect_args.setdefault("options", f"-c lock_timeout={int(lock_timeout_ms)}")
    options["connect_args"] = connect_args
    return options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL lets several workers share one SQLite file (one host); the busy timeout is
    sqlite3's `timeout`, set by engine_options."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
