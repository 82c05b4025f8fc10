"""Authorization codes, access and refresh tokens: issue, spend once, rotate, revoke.

Every one-shot secret is spent with one conditional UPDATE whose row count decides the
winner, so two concurrent requests with the same code or refresh token get exactly one
success on SQLite and PostgreSQL alike (security-checklist §0.3, OIDC-06, OIDC-09).

The token endpoint's statements and the records they return are idp/oidc/token_queries.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from idp.clock import Clock
from idp.config import Settings
from idp.oidc import resource_queries
from idp.oidc.models import AuthorizationCode, Token
from idp.oidc.token_queries import (
    ACCESS,
    CODE,
    CODE_STATE,
    FIND_ACCESS,
    FIND_CODE,
    FIND_REFRESH,
    INSERT_TOKEN,
    REFRESH,
    REFRESH_STATE,
    ROTATE_REFRESH,
    SPEND_CODE,
    FoundCode,
    FoundToken,
    GrantContext,
    found,
)
from idp.security.secrets import KeyedHasher, new_token


class TokenService:
    def __init__(self, session, settings: Settings, clock: Clock, hasher: KeyedHasher, connection=None):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        # The session's connection when the caller already holds it (the token endpoint),
        # valid until the session's transaction ends: saves asking the session per statement.
        self.connection = connection

    # Authorization codes -----------------------------------------------------------------

    def create_code(self, context: GrantContext, *, redirect_uri: str, nonce: str | None,
                    code_challenge: str | None, code_challenge_method: str | None) -> str:
        """Store a new code (as a keyed hash) and return it in the clear, once."""
        plain_code = new_token(32)
        now = self.clock()
        self.session.add(AuthorizationCode(
            code_hash=self.hasher.hash(CODE, plain_code),
            grant_id=context.grant_id,
            client_id=context.client_id,
            user_id=context.user_id,
            session_id=context.session_id,
            redirect_uri=redirect_uri,
            scope=context.scope,
            nonce=nonce,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            auth_time=context.auth_time,
            acr=context.acr,
            amr=context.amr or [],
            sid=context.sid,
            requested_claims=context.requested_claims,
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.OIDC_AUTHORIZATION_CODE_TTL),
        ))
        return plain_code

    def find_code(self, plain_code: str, client_id: str) -> FoundCode | None:
        """Look a code and its person up without spending the code (a read: no write lock
        on SQLite). A code already spent is reuse: spending it again revokes its grant.
        None when unusable."""
        row = self._connection().execute(FIND_CODE, self._lookup(CODE, plain_code)).one_or_none()
        if row is None or row.client_id != client_id:
            return None
        if row.consumed_at is not None:
            self.spend_code(plain_code, client_id)
            return None
        # A code whose session ended (sign-out within its minute) is no longer the person's.
        return found(FoundCode, row) if row.expires_at > self.clock() and row.session_alive else None

    def spend_code(self, plain_code: str, client_id: str) -> bool:
        """Spend a code once; True for the one request that did. A second redemption fails
        and revokes what the first issued (RFC 6749 §4.1.2). False for an unknown, expired,
        foreign or spent code."""
        return self.spend_code_hash(self.hasher.hash(CODE, plain_code), client_id)

    def spend_code_hash(self, code_hash: str, client_id: str) -> bool:
        """spend_code for a code already hashed (the token endpoint hashes it once)."""
        connection = self._connection()
        spent = connection.execute(SPEND_CODE, {"hash": code_hash, "client": client_id, "now": self.clock()})
        if spent.rowcount == 1:
            return True
        row = connection.execute(CODE_STATE, {"hash": code_hash}).one_or_none()
        if row is not None and row.client_id == client_id and row.consumed_at is not None:
            self.revoke_grant(row.grant_id)
        return False

    # Tokens --------------------------------------------------------------------------------

    def issue(self, context: GrantContext, *, include_refresh_token: bool, dpop_jkt: str | None = None) -> dict[str, Any]:
        """Create an opaque access token (and a refresh token) for the grant; return the
        token response. One Core INSERT: the row is never read back in this request. With
        dpop_jkt the tokens are bound to that DPoP key (RFC 9449 §5: token_type DPoP)."""
        row, response = self.mint(context, include_refresh_token=include_refresh_token, dpop_jkt=dpop_jkt)
        self.record(row)
        return response

    def mint(self, context: GrantContext, *, include_refresh_token: bool,
             dpop_jkt: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the row to record, the token response) of issue, without touching the database:
        the token endpoint mints and signs before its first write, so that SQLite's one write
        lock is held only for its statements and the commit (docs/performance.md)."""
        now = self.clock()
        ttl = self.settings.OIDC_ACCESS_TOKEN_TTL
        plain_access = new_token(32)
        plain_refresh = new_token(32) if include_refresh_token else None
        refresh_expires_at = None
        if plain_refresh:
            refresh_expires_at = context.refresh_expires_at or now + timedelta(seconds=self.settings.OIDC_REFRESH_TOKEN_TTL)
        row = {
            "access_token_hash": self.hasher.hash(ACCESS, plain_access),
            "refresh_token_hash": self.hasher.hash(REFRESH, plain_refresh) if plain_refresh else None,
            "grant_id": context.grant_id,
            "client_id": context.client_id,
            "user_id": context.user_id,
            "session_id": context.session_id,
            "scope": context.scope,
            "grant_scope": context.grant_scope or context.scope,
            "auth_time": context.auth_time,
            "acr": context.acr,
            "amr": context.amr,
            "sid": context.sid,
            "requested_claims": context.requested_claims,
            "issued_at": now,
            "access_expires_at": now + timedelta(seconds=ttl),
            "refresh_expires_at": refresh_expires_at,
            "dpop_jkt": dpop_jkt,
        }
        response: dict[str, Any] = {"access_token": plain_access, "token_type": "DPoP" if dpop_jkt else "Bearer",
                                    "expires_in": ttl}
        if context.scope:
            response["scope"] = context.scope
        if plain_refresh:
            response["refresh_token"] = plain_refresh
        return row, response

    def record(self, row: dict[str, Any]) -> None:
        """Write a row minted by mint: the token is valid from the commit on."""
        self._connection().execute(INSERT_TOKEN, row)

    def rotate_refresh_token(self, plain_refresh: str, client_id: str) -> bool:
        """Spend a refresh token once; True for the one request that did. Presenting a
        rotated one again revokes the whole grant (RFC 9700 §4.14.2)."""
        return self.rotate_refresh_token_hash(self.hasher.hash(REFRESH, plain_refresh), client_id)

    def rotate_refresh_token_hash(self, refresh_hash: str, client_id: str) -> bool:
        """rotate_refresh_token for a token already hashed (the token endpoint hashes it once)."""
        connection = self._connection()
        spent = connection.execute(ROTATE_REFRESH, {"hash": refresh_hash, "client": client_id, "now": self.clock()})
        if spent.rowcount == 1:
            return True
        row = connection.execute(REFRESH_STATE, {"hash": refresh_hash}).one_or_none()
        if row is not None and row.client_id == client_id and row.rotated_at is not None:
            self.revoke_grant(row.grant_id)
        return False

    def context_of(self, row: FoundCode | FoundToken, scope: str | None = None) -> GrantContext:
        return GrantContext(
            grant_id=row.grant_id,
            client_id=row.client_id,
            user_id=row.user_id,
            session_id=row.session_id,
            scope=scope if scope is not None else row.scope,
            grant_scope=getattr(row, "grant_scope", None) or row.scope,
            auth_time=row.auth_time,
            acr=row.acr,
            amr=list(row.amr or []),
            sid=row.sid,
            requested_claims=row.requested_claims,
            refresh_expires_at=getattr(row, "refresh_expires_at", None),
        )

    def find_active_access_token(self, plain_access: str) -> FoundToken | None:
        """A live access token and its person: unexpired, unrevoked, its grant's session
        alive unless the grant has offline_access (FoundToken.is_bound_to_a_dead_session)."""
        row = self._connection().execute(FIND_ACCESS, self._lookup(ACCESS, plain_access)).one_or_none()
        if row is None or row.revoked_at is not None or row.access_expires_at <= self.clock():
            return None
        token = found(FoundToken, row)
        return None if token.is_bound_to_a_dead_session() else token

    def find_active_refresh_token(self, plain_refresh: str) -> FoundToken | None:
        """A live refresh token and its person, read without spending it (the same rules as
        find_active_access_token)."""
        row = self._connection().execute(FIND_REFRESH, self._lookup(REFRESH, plain_refresh)).one_or_none()
        now = self.clock()
        if row is None or row.revoked_at or row.rotated_at or not row.refresh_expires_at or row.refresh_expires_at <= now:
            return None
        token = found(FoundToken, row)
        return None if token.is_bound_to_a_dead_session() else token

    def _lookup(self, kind: str, plain_secret: str) -> dict[str, Any]:
        """The parameters of a FIND_* statement: the secret's hash and the session times."""
        now = self.clock()
        return {"hash": self.hasher.hash(kind, plain_secret), "now": now,
                "idle_since": now - timedelta(seconds=self.settings.SESSION_IDLE_TIMEOUT)}

    def _connection(self):
        """The session's connection, in the session's transaction: Core statements run on it
        directly, without the ORM's per-statement work."""
        return self.connection if self.connection is not None else self.session.connection()

    # Revocation ------------------------------------------------------------------------------

    def revoke_grant(self, grant_id: str) -> None:
        self.session.execute(
            update(Token).where(Token.grant_id == grant_id, Token.revoked_at.is_(None))
            .values(revoked_at=self.clock()).execution_options(synchronize_session=False)
        )

    def revoke(self, plain_token: str, client_id: str, hint: str | None = None) -> None:
        """RFC 7009: revoke a token the client owns; a refresh token takes its grant with it.
        Unknown or foreign tokens are ignored, as the RFC asks (no oracle)."""
        lookups = (REFRESH, ACCESS) if hint != ACCESS else (ACCESS, REFRESH)
        connection = self._connection()
        for kind in lookups:
            token_hash = self.hasher.hash(kind, plain_token)
            statement = resource_queries.TOKEN_BY_REFRESH if kind == REFRESH else resource_queries.TOKEN_BY_ACCESS
            row = connection.execute(statement, {"hash": token_hash}).one_or_none()
            if row is None or row.client_id != client_id:
                continue
            if kind == REFRESH:
                connection.execute(resource_queries.REVOKE_GRANT, {"grant": row.grant_id, "now": self.clock()})
            elif row.revoked_at is None:
                connection.execute(resource_queries.REVOKE_ACCESS, {"hash": token_hash, "now": self.clock()})
            return

    def revoke_all_for_user(self, user_id: int) -> None:
        """End every grant of a person, offline_access included, and every code not yet
        redeemed (password change or reset, account disabled: RFC 9700 §4.14)."""
        now = self.clock()
        self.session.execute(
            update(Token).where(Token.user_id == user_id, Token.revoked_at.is_(None))
            .values(revoked_at=now).execution_options(synchronize_session=False)
        )
        self.session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.user_id == user_id, AuthorizationCode.consumed_at.is_(None),
                   AuthorizationCode.expires_at > now)
            .values(expires_at=now).execution_options(synchronize_session=False)
        )

    def revoke_grants_with_scope(self, user_id: int, scope_value: str) -> None:
        """End a person's grants whose consented scope includes scope_value, offline_access
        included, and their codes not yet redeemed that ask for it: the organization scope
        when a membership ends (issue 11). Scopes are space-separated words, so the match is
        made here rather than with a LIKE that "organizations" would also satisfy."""
        now = self.clock()
        grant_ids = {
            grant_id for grant_id, grant_scope in self.session.execute(
                select(Token.grant_id, Token.grant_scope).where(Token.user_id == user_id, Token.revoked_at.is_(None))
            ) if scope_value in (grant_scope or "").split()
        }
        if grant_ids:
            self.session.execute(
                update(Token).where(Token.grant_id.in_(grant_ids), Token.revoked_at.is_(None))
                .values(revoked_at=now).execution_options(synchronize_session=False)
            )
        code_ids = [
            code_id for code_id, scope in self.session.execute(
                select(AuthorizationCode.id, AuthorizationCode.scope)
                .where(AuthorizationCode.user_id == user_id, AuthorizationCode.consumed_at.is_(None),
                       AuthorizationCode.expires_at > now)
            ) if scope_value in scope.split()
        ]
        if code_ids:
            self.session.execute(
                update(AuthorizationCode).where(AuthorizationCode.id.in_(code_ids))
                .values(expires_at=now).execution_options(synchronize_session=False)
            )

    def move_to_session(self, old_session_id: int, new_session_id: int) -> None:
        """The same person's new session replaces the old one (a new sign-in, a step-up):
        the grants and codes of the old one go on with the new one."""
        for model in (Token, AuthorizationCode):
            self.session.execute(
                update(model).where(model.session_id == old_session_id)
                .values(session_id=new_session_id).execution_options(synchronize_session=False)
            )

    def revoke_for_session(self, session_id: int) -> None:
        """At sign-out, end the tokens of that session unless their grant has offline_access
        (the grant's consented scope: a refresh may have narrowed the access token's)."""
        rows = self.session.scalars(select(Token).where(Token.session_id == session_id, Token.revoked_at.is_(None)))
        now = self.clock()
        for row in rows:
            if "offline_access" not in (row.grant_scope or row.scope).split():
                row.revoked_at = now
