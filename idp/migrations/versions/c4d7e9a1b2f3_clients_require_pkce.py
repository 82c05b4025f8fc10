"""clients.require_pkce: PKCE from every client unless the operator opts a legacy one out

Revision ID: c4d7e9a1b2f3
Revises: ecf8c0b2f1be
Create Date: 2026-12-07 07:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'c4d7e9a1b2f3'
down_revision: str | None = 'ecf8c0b2f1be'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing clients get PKCE required too (checklist OIDC-03): an operator opts a legacy
    # confidential client out with `idp clients update CLIENT_ID --no-pkce`.
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('require_pkce', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('require_pkce')
