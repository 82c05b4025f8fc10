"""Letters of acceptance to verify, and their events (imported, confirmed, refused).

Revision ID: 0004_acceptance_letters
Revises: 0003_compliance_reports
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clients.institution_portal.db import UTCDateTime

revision: str = "0004_acceptance_letters"
down_revision: str | None = "0003_compliance_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "acceptance_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("dli_number", sa.String(length=64), nullable=False),
        sa.Column("letter_number", sa.String(length=64), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("given_names", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("program", sa.String(length=300), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("requested_at", UTC_DATETIME, nullable=False),
        sa.Column("imported_at", UTC_DATETIME, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("decided_at", UTC_DATETIME, nullable=True),
        sa.Column("decided_by_sub", sa.String(length=255), nullable=True),
        sa.Column("decided_by_name", sa.String(length=300), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acceptance_letters")),
        sa.UniqueConstraint("dli_number", "letter_number", name="uq_acceptance_letters_dli_letter"),
        sa.UniqueConstraint("public_id", name=op.f("uq_acceptance_letters_public_id")),
    )
    op.create_index(op.f("ix_acceptance_letters_dli_number"), "acceptance_letters", ["dli_number"])
    op.create_index(op.f("ix_acceptance_letters_state"), "acceptance_letters", ["state"])
    op.create_table(
        "acceptance_letter_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("actor_sub", sa.String(length=255), nullable=True),
        sa.Column("actor_name", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["letter_id"], ["acceptance_letters.id"], ondelete="CASCADE",
                                name=op.f("fk_acceptance_letter_events_letter_id_acceptance_letters")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acceptance_letter_events")),
    )
    op.create_index(op.f("ix_acceptance_letter_events_letter_id"), "acceptance_letter_events", ["letter_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_acceptance_letter_events_letter_id"), table_name="acceptance_letter_events")
    op.drop_table("acceptance_letter_events")
    op.drop_index(op.f("ix_acceptance_letters_state"), table_name="acceptance_letters")
    op.drop_index(op.f("ix_acceptance_letters_dli_number"), table_name="acceptance_letters")
    op.drop_table("acceptance_letters")
