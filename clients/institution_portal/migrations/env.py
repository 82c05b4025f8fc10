"""Alembic environment of the institution portal (portal_kit.migrations.run_environment)."""

from __future__ import annotations

import clients.institution_portal.models  # noqa: F401  (registers every table)
from clients.institution_portal.db import Base
from clients.institution_portal.migrations import VERSION_TABLE
from clients.portal_kit.migrations import run_environment

run_environment(Base.metadata, VERSION_TABLE)
