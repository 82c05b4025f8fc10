"""DPoP (RFC 9449): tokens.dpop_jkt, clients.dpop_bound_access_tokens and
dpop_require_nonce, and the seen proofs (dpop_proof_jtis)

Revision ID: c1d2e3f4a5b6
Revises: ae71f602426e
Create Date: 2026-12-07 10:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = 'c1d2e3f4a5b6'
down_revision: str | None = 'ae71f602426e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'dpop_proof_jtis',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('jti_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dpop_proof_jtis')),
        sa.UniqueConstraint('jti_hash', name=op.f('uq_dpop_proof_jtis_jti_hash')),
    )
    with op.batch_alter_table('dpop_proof_jtis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dpop_proof_jtis_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dpop_bound_access_tokens', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('dpop_require_nonce', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dpop_jkt', sa.String(length=43), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_column('dpop_jkt')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('dpop_require_nonce')
        batch_op.drop_column('dpop_bound_access_tokens')
    with op.batch_alter_table('dpop_proof_jtis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dpop_proof_jtis_expires_at'))
    op.drop_table('dpop_proof_jtis')
