"""organizations, memberships, organization_requests; invitations to an organization (issue 11)

Revision ID: ecf8c0b2f1be
Revises: 9d4a6f3e2b71
Create Date: 2026-12-07 06:44:51.332168
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db


revision: str = 'ecf8c0b2f1be'
down_revision: str | None = '9d4a6f3e2b71'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('organizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('name_fr', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('kind', 'number', name='uq_organizations_kind_number'),
    sa.UniqueConstraint('public_id', name=op.f('uq_organizations_public_id'))
    )
    op.create_table('memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('invited_by_user_id', sa.Integer(), nullable=True),
    sa.Column('invited_by_operator', sa.String(length=200), nullable=True),
    sa.Column('invited_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_memberships_invitation_id_invitations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['invited_by_user_id'], ['users.id'], name=op.f('fk_memberships_invited_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_memberships_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('organization_id', 'user_id', name='uq_memberships_organization_id_user_id')
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberships_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_memberships_one_active_primary', ['organization_id'], unique=True, sqlite_where=sa.text("role = 'primary' AND state = 'active'"), postgresql_where=sa.text("role = 'primary' AND state = 'active'"))

    op.create_table('organization_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('requested_by_user_id', sa.Integer(), nullable=True),
    sa.Column('target_membership_id', sa.Integer(), nullable=True),
    sa.Column('new_email', sa.String(length=320), nullable=True),
    sa.Column('new_locale', sa.String(length=8), nullable=True),
    sa.Column('former_primary_becomes', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('decided_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.String(length=1000), nullable=True),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'], name=op.f('fk_organization_requests_invitation_id_invitations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_requests_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['users.id'], name=op.f('fk_organization_requests_requested_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_membership_id'], ['memberships.id'], name=op.f('fk_organization_requests_target_membership_id_memberships'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_requests')),
    sa.UniqueConstraint('public_id', name=op.f('uq_organization_requests_public_id'))
    )
    with op.batch_alter_table('organization_requests', schema=None) as batch_op:
        batch_op.create_index('ix_organization_requests_organization_id_state', ['organization_id', 'state'], unique=False)

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organization_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('organization_role', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_invitations_organization_id'), ['organization_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_invitations_organization_id_organizations'), 'organizations', ['organization_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_invitations_organization_id_organizations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_invitations_organization_id'))
        batch_op.drop_column('organization_role')
        batch_op.drop_column('organization_id')

    with op.batch_alter_table('organization_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_organization_requests_organization_id_state')

    op.drop_table('organization_requests')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('uq_memberships_one_active_primary', sqlite_where=sa.text("role = 'primary' AND state = 'active'"), postgresql_where=sa.text("role = 'primary' AND state = 'active'"))
        batch_op.drop_index(batch_op.f('ix_memberships_user_id'))

    op.drop_table('memberships')
    op.drop_table('organizations')
