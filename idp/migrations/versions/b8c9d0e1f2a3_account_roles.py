"""Console roles held by accounts (issue 16): account_roles

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-07 10:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = 'b8c9d0e1f2a3'
down_revision: str | None = 'a7b8c9d0e1f2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'account_roles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('granted_at', idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_roles_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_roles')),
        sa.UniqueConstraint('user_id', 'role', name=op.f('uq_account_roles_user_id')),
    )
    with op.batch_alter_table('account_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_roles_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('account_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_roles_user_id'))
    op.drop_table('account_roles')
