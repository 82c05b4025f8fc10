"""Initial schema

Revision ID: 7abfcc2cca24
Revises: 
Create Date: 2026-11-23 19:37:41.382512
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db


revision: str = '7abfcc2cca24'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('client_assertion_jtis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('jti_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_assertion_jtis')),
    sa.UniqueConstraint('client_id', 'jti_hash', name=op.f('uq_client_assertion_jtis_client_id'))
    )
    op.create_table('clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('post_logout_redirect_uris', sa.JSON(), nullable=False),
    sa.Column('grant_types', sa.JSON(), nullable=False),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('token_endpoint_auth_method', sa.String(length=32), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('subject_type', sa.String(length=16), nullable=False),
    sa.Column('sector_identifier', sa.String(length=255), nullable=False),
    sa.Column('require_consent', sa.Boolean(), nullable=False),
    sa.Column('id_token_signed_response_alg', sa.String(length=16), nullable=False),
    sa.Column('jwks', sa.JSON(), nullable=True),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_clients_client_id'))
    )
    op.create_table('signing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('alg', sa.String(length=16), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('private_key_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activates_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('superseded_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('retire_after', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_keys')),
    sa.UniqueConstraint('alg', 'generation', name=op.f('uq_signing_keys_alg')),
    sa.UniqueConstraint('kid', name=op.f('uq_signing_keys_kid'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_verified', sa.Boolean(), nullable=False),
    sa.Column('given_name', sa.String(length=200), nullable=False),
    sa.Column('family_name', sa.String(length=200), nullable=False),
    sa.Column('phone_number', sa.String(length=32), nullable=True),
    sa.Column('phone_number_verified', sa.Boolean(), nullable=False),
    sa.Column('address', sa.JSON(), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('subject', name=op.f('uq_users_subject'))
    )
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('granted_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consents_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('user_id', 'client_id', name=op.f('uq_consents_user_id'))
    )
    op.create_table('sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handle_hash', sa.String(length=64), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('auth_time', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('amr', sa.JSON(), nullable=False),
    sa.Column('acr', sa.String(length=255), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('handle_hash', name=op.f('uq_sessions_handle_hash')),
    sa.UniqueConstraint('sid', name=op.f('uq_sessions_sid'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('signin_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handle_hash', sa.String(length=64), nullable=False),
    sa.Column('authorization_request', sa.JSON(), nullable=True),
    sa.Column('return_to', sa.String(length=2048), nullable=True),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('requested_acr', sa.String(length=255), nullable=True),
    sa.Column('prompt', sa.String(length=64), nullable=True),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('login_hint', sa.String(length=320), nullable=True),
    sa.Column('ui_locale', sa.String(length=8), nullable=True),
    sa.Column('needs_consent', sa.Boolean(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('steps_done', sa.JSON(), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_signin_transactions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_transactions')),
    sa.UniqueConstraint('handle_hash', name=op.f('uq_signin_transactions_handle_hash'))
    )
    op.create_table('authorization_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('grant_id', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('redirect_uri', sa.String(length=2048), nullable=False),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('nonce', sa.String(length=512), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=True),
    sa.Column('auth_time', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acr', sa.String(length=255), nullable=True),
    sa.Column('amr', sa.JSON(), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=True),
    sa.Column('requested_claims', sa.JSON(), nullable=True),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_authorization_codes_session_id_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_authorization_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authorization_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_authorization_codes_code_hash'))
    )
    with op.batch_alter_table('authorization_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authorization_codes_grant_id'), ['grant_id'], unique=False)

    op.create_table('tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('access_token_hash', sa.String(length=64), nullable=False),
    sa.Column('refresh_token_hash', sa.String(length=64), nullable=True),
    sa.Column('grant_id', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('grant_scope', sa.String(length=1000), nullable=False),
    sa.Column('auth_time', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acr', sa.String(length=255), nullable=True),
    sa.Column('amr', sa.JSON(), nullable=True),
    sa.Column('sid', sa.String(length=64), nullable=True),
    sa.Column('requested_claims', sa.JSON(), nullable=True),
    sa.Column('issued_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('access_expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refresh_expires_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rotated_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_tokens_session_id_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tokens')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_tokens_access_token_hash')),
    sa.UniqueConstraint('refresh_token_hash', name=op.f('uq_tokens_refresh_token_hash'))
    )
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.create_index('ix_tokens_grant_id', ['grant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_tokens_grant_id')

    op.drop_table('tokens')
    with op.batch_alter_table('authorization_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authorization_codes_grant_id'))

    op.drop_table('authorization_codes')
    op.drop_table('signin_transactions')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_user_id'))

    op.drop_table('sessions')
    op.drop_table('consents')
    op.drop_table('users')
    op.drop_table('signing_keys')
    op.drop_table('clients')
    op.drop_table('client_assertion_jtis')
