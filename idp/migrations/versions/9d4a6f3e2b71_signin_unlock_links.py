"""users: temporary locks in a row and the lock waiting for an unlock; unlock_links

Revision ID: 9d4a6f3e2b71
Revises: 5b1e7c2d9a40
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db


revision: str = '9d4a6f3e2b71'
down_revision: str | None = '5b1e7c2d9a40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signin_lock_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('unlock_required_at', idp.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table('unlock_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_unlock_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unlock_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_unlock_links_token_hash'))
    )
    with op.batch_alter_table('unlock_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unlock_links_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('unlock_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unlock_links_user_id'))
    op.drop_table('unlock_links')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('unlock_required_at')
        batch_op.drop_column('signin_lock_count')
