"""Relying parties in the console (issue 16): the previous client secret kept during a
rotation's overlap, disabled clients, revoked initial access tokens

Revision ID: a7c1e5f3b9d2
Revises: e2f3a4b5c6d7
Create Date: 2026-12-07 13:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = 'a7c1e5f3b9d2'
down_revision: str | None = 'e2f3a4b5c6d7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clients') as batch_op:
        batch_op.add_column(sa.Column('previous_secret_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('previous_secret_expires_at', idp.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disabled_at', idp.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('initial_access_tokens') as batch_op:
        batch_op.add_column(sa.Column('revoked_at', idp.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('initial_access_tokens') as batch_op:
        batch_op.drop_column('revoked_at')
    with op.batch_alter_table('clients') as batch_op:
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('previous_secret_expires_at')
        batch_op.drop_column('previous_secret_hash')
