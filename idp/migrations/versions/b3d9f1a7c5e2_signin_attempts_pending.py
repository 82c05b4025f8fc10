"""Password checks under way on the account row, so the argon2id hash runs with no database
lock held (issue 10)

Revision ID: b3d9f1a7c5e2
Revises: a7c1e5f3b9d2
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = 'b3d9f1a7c5e2'
down_revision: str | None = 'a7c1e5f3b9d2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('signin_attempts_pending', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('signin_attempt_started_at', idp.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('signin_attempt_started_at')
        batch_op.drop_column('signin_attempts_pending')
