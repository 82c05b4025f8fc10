"""The document portal's own migrations: one head, and they build what the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

import clients.document_portal.models  # noqa: F401
from clients.document_portal.db import Base
from clients.document_portal.migrations import MIGRATIONS_DIR, VERSION_TABLE, upgrade


def test_the_migrations_have_one_head():
    assert len(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads()) == 1


def test_migrations_build_the_tables_the_models_describe(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    with engine.begin() as connection:
        upgrade(connection)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "version_table": VERSION_TABLE})
        differences = compare_metadata(context, Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert {"signin_states", "portal_sessions", "documents", VERSION_TABLE} <= tables
