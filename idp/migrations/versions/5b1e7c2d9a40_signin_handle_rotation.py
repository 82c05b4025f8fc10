"""signin_transactions: the factor steps behind the current handle (handle rotation)

Revision ID: 5b1e7c2d9a40
Revises: 3f9d2c1a7b10
Create Date: 2026-12-07 06:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '5b1e7c2d9a40'
down_revision: str | None = '3f9d2c1a7b10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sign-ins running during the upgrade get a new handle at their next completed factor.
    with op.batch_alter_table('signin_transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handle_steps', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('signin_transactions', schema=None) as batch_op:
        batch_op.drop_column('handle_steps')
