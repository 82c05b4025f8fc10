"""What the token path reads and writes: the records it returns (a code, a token, the person
and whether their session is alive) and its statements, built once at import with bind
parameters and run as Core statements on the session's connection: building a statement,
computing its cache key and loading ORM objects cost more CPU than SQLite itself
(docs/performance.md). TokenService (tokens.py) runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, select, update

from idp.accounts.models import User
from idp.oidc.models import AuthorizationCode, Token
from idp.signin.models import UserSession

CODE = "authorization_code"
ACCESS = "access_token"
REFRESH = "refresh_token"


@dataclass(frozen=True)
class GrantContext:
    """Who and how: copied from the code (or parent token) onto every token of a grant."""

    grant_id: str
    client_id: str
    user_id: int | None
    session_id: int | None
    scope: str  # of the access token being issued
    grant_scope: str | None = None  # consented scope of the grant; defaults to scope
    auth_time: datetime | None = None
    acr: str | None = None
    amr: list[str] | None = None
    sid: str | None = None
    requested_claims: dict[str, Any] | None = None
    refresh_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """The person a code or refresh token was issued to, read with it in one query: what
    the token endpoint needs (id, subject, whether they may still sign in)."""

    id: int
    subject: str
    disabled_at: datetime | None
    activated_at: datetime | None

    # The model's own rule, applied to the columns read above (the ones it looks at).
    is_active = User.is_active


@dataclass(frozen=True, slots=True)
class FoundCode:
    """An authorization code as read before it is spent (codes never change but for
    consumed_at, which the spending UPDATE checks again), with its person."""

    grant_id: str
    client_id: str
    user_id: int
    session_id: int | None
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: datetime | None
    acr: str | None
    amr: list[str] | None
    sid: str | None
    requested_claims: dict[str, Any] | None
    expires_at: datetime
    consumed_at: datetime | None
    session_alive: bool  # the session that got the code is still live (_SESSION_ALIVE)
    person: Person | None

    # The two accessors Authlib's code grant reads (AuthorizationCodeMixin).
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True, slots=True)
class FoundToken:
    """A token row as read (without its hashes), with its person when it has one."""

    grant_id: str
    client_id: str
    user_id: int | None
    session_id: int | None
    scope: str
    grant_scope: str
    auth_time: datetime | None
    acr: str | None
    amr: list[str] | None
    sid: str | None
    requested_claims: dict[str, Any] | None
    issued_at: datetime
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    rotated_at: datetime | None
    revoked_at: datetime | None
    dpop_jkt: str | None  # the key a DPoP-bound token is bound to (cnf.jkt), else None
    session_alive: bool  # the session that made the grant is still live (_SESSION_ALIVE)
    person: Person | None

    def is_bound_to_a_dead_session(self) -> bool:
        """A person's grant without offline_access lives only as long as the session that
        made it (RFC 9700 §4.14; docs/oidc.md): ended, idle or past its absolute limit, that
        session takes the grant's tokens with it. The consented scope decides, whatever a
        narrowing refresh gave this access token."""
        return (self.user_id is not None and not self.session_alive
                and "offline_access" not in self.grant_scope.split())


_codes = AuthorizationCode.__table__
_tokens = Token.__table__
_users = User.__table__
_sessions = UserSession.__table__
_PERSON_FIELDS = tuple(field.name for field in fields(Person))
_PERSON_COLUMNS = [_users.c[name].label(f"person_{name}") for name in _PERSON_FIELDS]
# The session that got the code or made the grant is live: not ended, not idle, not past its
# absolute limit (SessionService.is_alive, in SQL). Session expiry is no event that could
# revoke anything, so each use of a token asks; the join on the session's primary key costs
# no extra round trip. Bind "now" and "idle_since" (now - SESSION_IDLE_TIMEOUT).
_SESSION_ALIVE = and_(
    _sessions.c.id.is_not(None),
    _sessions.c.ended_at.is_(None),
    _sessions.c.expires_at > bindparam("now"),
    _sessions.c.last_seen_at > bindparam("idle_since"),
)


def _select_with_person(table, record_class, hash_column: str):
    """SELECT the record's columns, whether its session is alive, and its person's (outer
    joins: a missing person is None), in the order of record_class's fields, whose last two
    are session_alive and the person."""
    *record_fields, alive_field, person_field = fields(record_class)
    assert (alive_field.name, person_field.name) == ("session_alive", "person")
    columns = [table.c[field.name] for field in record_fields]
    return (
        select(*columns, case((_SESSION_ALIVE, True), else_=False).label("session_alive"), *_PERSON_COLUMNS)
        .select_from(table.outerjoin(_users, _users.c.id == table.c.user_id)
                     .outerjoin(_sessions, _sessions.c.id == table.c.session_id))
        .where(table.c[hash_column] == bindparam("hash"))
    )


def found(record_class, row) -> Any:
    """The record_class snapshot of a row read by a _select_with_person statement, whose
    columns come in the order of the fields: the record's, then the person's."""
    split = len(row) - len(_PERSON_FIELDS)
    person = Person(*row[split:]) if row[split] is not None else None
    return record_class(*row[:split - 1], bool(row[split - 1]), person)


FIND_CODE = _select_with_person(_codes, FoundCode, "code_hash")
SPEND_CODE = (
    update(_codes)
    .where(_codes.c.code_hash == bindparam("hash"),
           _codes.c.client_id == bindparam("client"),
           _codes.c.consumed_at.is_(None),
           _codes.c.expires_at > bindparam("now"))
    .values(consumed_at=bindparam("now"))
)
CODE_STATE = select(_codes.c.grant_id, _codes.c.client_id, _codes.c.consumed_at).where(_codes.c.code_hash == bindparam("hash"))
FIND_REFRESH = _select_with_person(_tokens, FoundToken, "refresh_token_hash")
FIND_ACCESS = _select_with_person(_tokens, FoundToken, "access_token_hash")
ROTATE_REFRESH = (
    update(_tokens)
    .where(_tokens.c.refresh_token_hash == bindparam("hash"),
           _tokens.c.client_id == bindparam("client"),
           _tokens.c.rotated_at.is_(None),
           _tokens.c.revoked_at.is_(None),
           _tokens.c.refresh_expires_at > bindparam("now"))
    .values(rotated_at=bindparam("now"))
)
REFRESH_STATE = (select(_tokens.c.grant_id, _tokens.c.client_id, _tokens.c.rotated_at)
                 .where(_tokens.c.refresh_token_hash == bindparam("hash")))
INSERT_TOKEN = _tokens.insert()
# The columns TokenService.issue gives INSERT_TOKEN (idp.oidc.driver_sql compiles it for them).
INSERT_TOKEN_KEYS = ("access_token_hash", "refresh_token_hash", "grant_id", "client_id", "user_id", "session_id",
                     "scope", "grant_scope", "auth_time", "acr", "amr", "sid", "requested_claims", "issued_at",
                     "access_expires_at", "refresh_expires_at", "dpop_jkt")
