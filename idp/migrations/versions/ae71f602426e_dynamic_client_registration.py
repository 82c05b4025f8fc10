"""Dynamic client registration (RFC 7591/7592): initial access tokens and
clients.registration_access_token_hash

Revision ID: ae71f602426e
Revises: b8c9d0e1f2a3
Create Date: 2026-12-07 10:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = 'ae71f602426e'
down_revision: str | None = 'b8c9d0e1f2a3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'initial_access_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', idp.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_initial_access_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_initial_access_tokens_token_hash')),
    )
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registration_access_token_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('registration_access_token_hash')
    op.drop_table('initial_access_tokens')
