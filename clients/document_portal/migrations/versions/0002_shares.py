"""Share links of a learner's documents and the per-address counters of failed lookups.

Revision ID: 0002_shares
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clients.portal_kit.db import UTCDateTime

revision: str = "0002_shares"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("learner_sub", sa.String(length=255), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.Column("locked_at", UTC_DATETIME, nullable=True),
        sa.Column("failed_code_count", sa.Integer(), nullable=False),
        sa.Column("open_count", sa.Integer(), nullable=False),
        sa.Column("last_opened_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_shares_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
        sa.UniqueConstraint("public_id", name=op.f("uq_shares_public_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_shares_token_hash")),
    )
    op.create_index(op.f("ix_shares_document_id"), "shares", ["document_id"])
    op.create_index(op.f("ix_shares_learner_sub"), "shares", ["learner_sub"])
    op.create_table(
        "share_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", UTC_DATETIME, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_attempts")),
        sa.UniqueConstraint("address_hash", "window_start", name="uq_share_attempts_address_window"),
    )
    op.create_index(op.f("ix_share_attempts_window_start"), "share_attempts", ["window_start"])


def downgrade() -> None:
    op.drop_index(op.f("ix_share_attempts_window_start"), table_name="share_attempts")
    op.drop_table("share_attempts")
    op.drop_index(op.f("ix_shares_learner_sub"), table_name="shares")
    op.drop_index(op.f("ix_shares_document_id"), table_name="shares")
    op.drop_table("shares")
