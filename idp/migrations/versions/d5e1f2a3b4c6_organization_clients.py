"""organization_clients: the relying parties an operator attached to an organization (issue 11)

Revision ID: d5e1f2a3b4c6
Revises: c4d7e9a1b2f3
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db


revision: str = 'd5e1f2a3b4c6'
down_revision: str | None = 'c4d7e9a1b2f3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organization_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('attached_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.client_id'], name=op.f('fk_organization_clients_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_clients_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_clients')),
    sa.UniqueConstraint('organization_id', 'client_id', name='uq_organization_clients_organization_id_client_id')
    )
    with op.batch_alter_table('organization_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_clients_client_id'), ['client_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('organization_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_clients_client_id'))
    op.drop_table('organization_clients')
