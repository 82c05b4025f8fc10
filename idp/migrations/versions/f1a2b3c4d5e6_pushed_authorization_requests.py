"""Pushed authorization requests (RFC 9126): the table of pushed requests, and
clients.require_pushed_authorization_requests

Revision ID: f1a2b3c4d5e6
Revises: e7a3c5d9b1f2
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = 'f1a2b3c4d5e6'
down_revision: str | None = 'e7a3c5d9b1f2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pushed_authorization_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_uri_hash', sa.String(length=64), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('signed', sa.Boolean(), nullable=False),
        sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', idp.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pushed_authorization_requests')),
        sa.UniqueConstraint('request_uri_hash', name=op.f('uq_pushed_authorization_requests_request_uri_hash')),
    )
    with op.batch_alter_table('pushed_authorization_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pushed_authorization_requests_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('require_pushed_authorization_requests', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('require_pushed_authorization_requests')
    with op.batch_alter_table('pushed_authorization_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pushed_authorization_requests_expires_at'))
    op.drop_table('pushed_authorization_requests')
