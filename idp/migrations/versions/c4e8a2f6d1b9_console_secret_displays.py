"""A new relying party's secret held, encrypted, for the one console page that shows it
(Post/Redirect/Get): console_secret_displays

Revision ID: c4e8a2f6d1b9
Revises: b3d9f1a7c5e2
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = 'c4e8a2f6d1b9'
down_revision: str | None = 'b3d9f1a7c5e2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'console_secret_displays',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('client_pk', sa.Integer(), nullable=False),
        sa.Column('secret_encrypted', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['client_pk'], ['clients.id'], name=op.f('fk_console_secret_displays_client_pk_clients'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_console_secret_displays_session_id_sessions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_console_secret_displays')),
    )
    with op.batch_alter_table('console_secret_displays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_secret_displays_client_pk'), ['client_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_secret_displays_session_id'), ['session_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('console_secret_displays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_secret_displays_session_id'))
        batch_op.drop_index(batch_op.f('ix_console_secret_displays_client_pk'))
    op.drop_table('console_secret_displays')
