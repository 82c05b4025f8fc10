"""invitations: a document waiting for the person, its return URL, the bound account (issue 13)

Revision ID: e7a3c5d9b1f2
Revises: 7b7d678b9ad2
Create Date: 2026-12-07 09:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e7a3c5d9b1f2'
down_revision: str | None = '7b7d678b9ad2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('return_url', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('subject_user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_invitations_subject_user_id'), ['subject_user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_invitations_subject_user_id_users'), 'users', ['subject_user_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invitations_subject_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_invitations_subject_user_id'))
        batch_op.drop_column('subject_user_id')
        batch_op.drop_column('return_url')
        batch_op.drop_column('document')
