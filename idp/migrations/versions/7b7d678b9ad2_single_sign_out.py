"""single sign-out (issue 14): session_clients, the back-channel logout outbox (logout_deliveries,
logout_attempts) and the clients' back-channel and front-channel logout URIs

Revision ID: 7b7d678b9ad2
Revises: d5e1f2a3b4c6
Create Date: 2026-12-07 09:40:14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db


revision: str = '7b7d678b9ad2'
down_revision: str | None = 'd5e1f2a3b4c6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('logout_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('uri', sa.String(length=2048), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), server_default='queued', nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('finished_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_logout_deliveries_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logout_deliveries'))
    )
    with op.batch_alter_table('logout_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logout_deliveries_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_logout_deliveries_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_logout_deliveries_user_id'), ['user_id'], unique=False)

    op.create_table('logout_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('attempted_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=255), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['logout_deliveries.id'], name=op.f('fk_logout_attempts_delivery_id_logout_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logout_attempts'))
    )
    with op.batch_alter_table('logout_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logout_attempts_delivery_id'), ['delivery_id'], unique=False)

    op.create_table('session_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('signed_in_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_session_clients_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_clients')),
    sa.UniqueConstraint('session_id', 'client_id', 'sid', name=op.f('uq_session_clients_session_id'))
    )
    with op.batch_alter_table('session_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_clients_session_id'), ['session_id'], unique=False)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backchannel_logout_uri', sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column('backchannel_logout_session_required', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('frontchannel_logout_uri', sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column('frontchannel_logout_session_required', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('frontchannel_logout_session_required')
        batch_op.drop_column('frontchannel_logout_uri')
        batch_op.drop_column('backchannel_logout_session_required')
        batch_op.drop_column('backchannel_logout_uri')

    with op.batch_alter_table('session_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_clients_session_id'))

    op.drop_table('session_clients')
    with op.batch_alter_table('logout_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logout_attempts_delivery_id'))

    op.drop_table('logout_attempts')
    with op.batch_alter_table('logout_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logout_deliveries_user_id'))
        batch_op.drop_index('ix_logout_deliveries_due')
        batch_op.drop_index(batch_op.f('ix_logout_deliveries_client_id'))

    op.drop_table('logout_deliveries')
