"""Security-key uses that confirmed a destructive console action (issue 16): console_key_uses

Revision ID: e2f3a4b5c6d7
Revises: d78086b32171
Create Date: 2026-12-07 10:31:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = 'e2f3a4b5c6d7'
down_revision: str | None = 'd78086b32171'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'console_key_uses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('used_at', idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_console_key_uses_session_id_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_console_key_uses')),
        sa.UniqueConstraint('session_id', name=op.f('uq_console_key_uses_session_id')),
    )


def downgrade() -> None:
    op.drop_table('console_key_uses')
