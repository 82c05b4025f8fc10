"""The institutions registry (with their province), reporting periods and their notices.

Revision ID: 0002_institutions_and_periods
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clients.institution_portal.db import UTCDateTime

revision: str = "0002_institutions_and_periods"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("name_fr", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("province", sa.String(length=2), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("synced_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_institutions_public_id")),
        sa.UniqueConstraint("number", name=op.f("uq_institutions_number")),
    )
    op.create_table(
        "reporting_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("season", sa.String(length=20), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("submitted_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"],
                                name=op.f("fk_reporting_periods_institution_id_institutions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_periods")),
        sa.UniqueConstraint("institution_id", "season", name="uq_reporting_periods_institution_season"),
    )
    op.create_index(op.f("ix_reporting_periods_institution_id"), "reporting_periods", ["institution_id"])
    op.create_table(
        "period_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["period_id"], ["reporting_periods.id"],
                                name=op.f("fk_period_notices_period_id_reporting_periods")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_notices")),
        sa.UniqueConstraint("period_id", "kind", name="uq_period_notices_period_kind"),
    )
    op.create_index(op.f("ix_period_notices_period_id"), "period_notices", ["period_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_period_notices_period_id"), table_name="period_notices")
    op.drop_table("period_notices")
    op.drop_index(op.f("ix_reporting_periods_institution_id"), table_name="reporting_periods")
    op.drop_table("reporting_periods")
    op.drop_table("institutions")
