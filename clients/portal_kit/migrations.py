"""Each portal's own Alembic migrations, driven from code (`python -m clients.<portal> db
upgrade`, the tests): there is no alembic.ini, and each portal has its own version table."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection


def alembic_config(directory: Path, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.attributes["connection"] = connection
    return config


def upgrade(directory: Path, connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(directory, connection), revision)


def run_environment(metadata: MetaData, version_table: str) -> None:
    """The body of a portal's migrations/env.py: its own tables only, batch mode on SQLite."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
