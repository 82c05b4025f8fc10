"""mail_outbox: state, Message-ID, expiry of time-critical mail, dead letters

Revision ID: 3f9d2c1a7b10
Revises: 0564e8deec2d
Create Date: 2026-12-07 06:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db


revision: str = '3f9d2c1a7b10'
down_revision: str | None = '0564e8deec2d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), server_default='queued', nullable=False))
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('failed_at', idp.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('smtp_code', sa.Integer(), nullable=True))
        batch_op.drop_index('ix_mail_outbox_due')
        batch_op.create_index('ix_mail_outbox_due', ['state', 'next_attempt_at'], unique=False)
    # Messages sent before this revision; unsent ones stay queued (a row out of attempts is
    # still never retried: MAIL_MAX_ATTEMPTS is checked as before).
    op.execute("UPDATE mail_outbox SET state = 'sent' WHERE sent_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_due')
        batch_op.create_index('ix_mail_outbox_due', ['sent_at', 'next_attempt_at'], unique=False)
        batch_op.drop_column('smtp_code')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('message_id')
        batch_op.drop_column('state')
