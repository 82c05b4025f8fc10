"""Compliance reports: a report per institution and period, its versions (drafts,
submissions with receipts, corrections) and their student rows.

Revision ID: 0003_compliance_reports
Revises: 0002_institutions_and_periods
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clients.institution_portal.db import UTCDateTime

revision: str = "0003_compliance_reports"
down_revision: str | None = "0002_institutions_and_periods"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "compliance_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("first_submitted_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["period_id"], ["reporting_periods.id"],
                                name=op.f("fk_compliance_reports_period_id_reporting_periods")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_reports")),
        sa.UniqueConstraint("organization_id", "period_id", name="uq_compliance_reports_organization_period"),
        sa.UniqueConstraint("public_id", name=op.f("uq_compliance_reports_public_id")),
    )
    op.create_index(op.f("ix_compliance_reports_organization_id"), "compliance_reports", ["organization_id"])
    op.create_index(op.f("ix_compliance_reports_period_id"), "compliance_reports", ["period_id"])
    op.create_table(
        "report_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("receipt_number", sa.String(length=20), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("submitted_at", UTC_DATETIME, nullable=True),
        sa.Column("submitted_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["compliance_reports.id"],
                                name=op.f("fk_report_versions_report_id_compliance_reports"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_versions")),
        sa.UniqueConstraint("receipt_number", name=op.f("uq_report_versions_receipt_number")),
        sa.UniqueConstraint("report_id", "number", name="uq_report_versions_report_number"),
    )
    op.create_index(op.f("ix_report_versions_report_id"), "report_versions", ["report_id"])
    op.create_table(
        "report_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("student_number", sa.String(length=20), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_names", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("uci", sa.String(length=10), nullable=False),
        sa.Column("permit_number", sa.String(length=10), nullable=False),
        sa.Column("program", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("status_date", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["report_versions.id"],
                                name=op.f("fk_report_rows_version_id_report_versions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_rows")),
        sa.UniqueConstraint("public_id", name=op.f("uq_report_rows_public_id")),
        sa.UniqueConstraint("version_id", "student_number", name="uq_report_rows_version_student_number"),
        sa.UniqueConstraint("version_id", "uci", name="uq_report_rows_version_uci"),
    )
    op.create_index(op.f("ix_report_rows_version_id"), "report_rows", ["version_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_report_rows_version_id"), table_name="report_rows")
    op.drop_table("report_rows")
    op.drop_index(op.f("ix_report_versions_report_id"), table_name="report_versions")
    op.drop_table("report_versions")
    op.drop_index(op.f("ix_compliance_reports_period_id"), table_name="compliance_reports")
    op.drop_index(op.f("ix_compliance_reports_organization_id"), table_name="compliance_reports")
    op.drop_table("compliance_reports")
