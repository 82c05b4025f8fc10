"""console_secret_displays also hold a rotated secret or an initial access token until the one
page that shows it, with the one-time id of the form that made it (a replayed form makes
nothing): form_id (unique), initial_token_pk; client_pk and secret_encrypted become optional

Revision ID: d5f1b3a9e7c2
Revises: c4e8a2f6d1b9
Create Date: 2026-12-07 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd5f1b3a9e7c2'
down_revision: str | None = 'c4e8a2f6d1b9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('console_secret_displays', schema=None) as batch_op:
        batch_op.add_column(sa.Column('initial_token_pk', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('form_id', sa.String(length=64), nullable=True))
        batch_op.alter_column('client_pk', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('secret_encrypted', existing_type=sa.LargeBinary(), nullable=True)
        batch_op.create_index(batch_op.f('ix_console_secret_displays_initial_token_pk'), ['initial_token_pk'],
                              unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_console_secret_displays_form_id'), ['form_id'])
        batch_op.create_foreign_key(batch_op.f('fk_console_secret_displays_initial_token_pk_initial_access_tokens'),
                                    'initial_access_tokens', ['initial_token_pk'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    op.execute("DELETE FROM console_secret_displays WHERE client_pk IS NULL OR secret_encrypted IS NULL")
    with op.batch_alter_table('console_secret_displays', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_console_secret_displays_initial_token_pk_initial_access_tokens'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_console_secret_displays_form_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_console_secret_displays_initial_token_pk'))
        batch_op.alter_column('secret_encrypted', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column('client_pk', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('form_id')
        batch_op.drop_column('initial_token_pk')
