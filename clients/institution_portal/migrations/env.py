"""Alembic environment of the institution portal: its own tables only, batch mode on SQLite."""

from __future__ import annotations

from alembic import context

import clients.institution_portal.models  # noqa: F401  (registers every table)
from clients.institution_portal.db import Base
from clients.institution_portal.migrations import VERSION_TABLE

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
