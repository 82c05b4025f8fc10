"""The institution portal's own Alembic migrations (`python -m clients.institution_portal db
upgrade`, the tests), with its own version table (portal_kit.migrations)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy.engine import Connection

from clients.portal_kit import migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent
VERSION_TABLE = "institution_portal_alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    return migrations.alembic_config(MIGRATIONS_DIR, connection)


def upgrade(connection: Connection, revision: str = "head") -> None:
    migrations.upgrade(MIGRATIONS_DIR, connection, revision)
