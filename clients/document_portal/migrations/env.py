"""Alembic environment of the document portal (portal_kit.migrations.run_environment)."""

from __future__ import annotations

import clients.document_portal.models  # noqa: F401  (registers every table)
from clients.document_portal.db import Base
from clients.document_portal.migrations import VERSION_TABLE
from clients.portal_kit.migrations import run_environment

run_environment(Base.metadata, VERSION_TABLE)
