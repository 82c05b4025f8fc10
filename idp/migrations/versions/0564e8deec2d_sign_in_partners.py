"""sign-in partners

Issue 5: the round trips to partners (partner_requests), the links (issuer, subject) to
accounts (partner_links), and users.email becomes nullable: an account a partner's sign-in
created has no address (Passerelle stores nothing the partner knows).

Revision ID: 0564e8deec2d
Revises: 87b3abb754b4
Create Date: 2026-12-03 19:01:24.445349
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db


revision: str = '0564e8deec2d'
down_revision: str | None = '87b3abb754b4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('partner_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=2048), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_partner_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_links')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_partner_links_issuer'))
    )
    with op.batch_alter_table('partner_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_links_user_id'), ['user_id'], unique=False)

    op.create_table('partner_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('partner_id', sa.String(length=63), nullable=False),
    sa.Column('issuer', sa.String(length=2048), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('signin_transaction_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_partner_requests_session_id_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signin_transaction_id'], ['signin_transactions.id'], name=op.f('fk_partner_requests_signin_transaction_id_signin_transactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_requests')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_partner_requests_state_hash'))
    )
    with op.batch_alter_table('partner_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_requests_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_requests_signin_transaction_id'), ['signin_transaction_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=320),
               nullable=True)



def downgrade() -> None:
    # Accounts without an address exist only through a partner: without partners they are
    # unreachable, and the column cannot become NOT NULL while they remain.
    op.execute("DELETE FROM users WHERE email IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=320),
               nullable=False)

    with op.batch_alter_table('partner_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_requests_signin_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_partner_requests_session_id'))

    op.drop_table('partner_requests')
    with op.batch_alter_table('partner_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_links_user_id'))

    op.drop_table('partner_links')
