"""The document portal's first tables: sign-in states, portal sessions, issued documents.

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clients.portal_kit.db import UTCDateTime

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "signin_states",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signin_states")),
    )
    op.create_index(op.f("ix_signin_states_expires_at"), "signin_states", ["expires_at"])
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=True),
        sa.Column("organization_number", sa.String(length=64), nullable=True),
        sa.Column("organization_name_fr", sa.String(length=300), nullable=True),
        sa.Column("organization_name_en", sa.String(length=300), nullable=True),
        sa.Column("acr", sa.String(length=100), nullable=False),
        sa.Column("id_token", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_sessions_token_hash")),
    )
    op.create_index(op.f("ix_portal_sessions_sub"), "portal_sessions", ["sub"])
    op.create_index(op.f("ix_portal_sessions_expires_at"), "portal_sessions", ["expires_at"])
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("issuer_organization_id", sa.String(length=64), nullable=False),
        sa.Column("issuer_name_fr", sa.String(length=300), nullable=False),
        sa.Column("issuer_name_en", sa.String(length=300), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title_fr", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("learner_given_name", sa.String(length=100), nullable=False),
        sa.Column("learner_family_name", sa.String(length=100), nullable=False),
        sa.Column("learner_email", sa.String(length=254), nullable=False),
        sa.Column("learner_locale", sa.String(length=5), nullable=False),
        sa.Column("invitation_id", sa.String(length=64), nullable=True),
        sa.Column("learner_sub", sa.String(length=255), nullable=True),
        sa.Column("bound_at", UTC_DATETIME, nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", UTC_DATETIME, nullable=False),
        sa.Column("issued_by_sub", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("withdrawn_at", UTC_DATETIME, nullable=True),
        sa.Column("withdrawn_by_sub", sa.String(length=255), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('transcript', 'diploma', 'attestation')", name=op.f("ck_documents_kind")),
        sa.CheckConstraint("state IN ('issued', 'withdrawn')", name=op.f("ck_documents_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("public_id", name=op.f("uq_documents_public_id")),
    )
    op.create_index(op.f("ix_documents_invitation_id"), "documents", ["invitation_id"])
    op.create_index("ix_documents_issuer_issued_at", "documents", ["issuer_organization_id", "issued_at"])
    op.create_index(op.f("ix_documents_learner_sub"), "documents", ["learner_sub"])
    op.create_index(op.f("ix_documents_sha256"), "documents", ["sha256"])


def downgrade() -> None:
    op.drop_table("documents")
    op.drop_index(op.f("ix_portal_sessions_expires_at"), table_name="portal_sessions")
    op.drop_index(op.f("ix_portal_sessions_sub"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_index(op.f("ix_signin_states_expires_at"), table_name="signin_states")
    op.drop_table("signin_states")
