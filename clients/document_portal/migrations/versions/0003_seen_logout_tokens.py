"""Back-channel logout (issue 14): the logout tokens already used, so a replay is refused.

Revision ID: 0003_seen_logout_tokens
Revises: 0002_shares
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clients.portal_kit.db import UTCDateTime

revision: str = "0003_seen_logout_tokens"
down_revision: str | None = "0002_shares"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_logout_tokens",
        sa.Column("jti_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti_hash", name=op.f("pk_seen_logout_tokens")),
    )
    with op.batch_alter_table("seen_logout_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_logout_tokens_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("seen_logout_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_logout_tokens_expires_at"))
    op.drop_table("seen_logout_tokens")
