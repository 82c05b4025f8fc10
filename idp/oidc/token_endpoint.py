"""The token endpoint's lean path: the usual successful request without Authlib's dispatch.

A code exchange is a keyed hash, one SELECT, one UPDATE, one INSERT, a commit and one ES256
signature; Authlib's generic machinery (request objects, the grant registry, hooks, the
client authentication loop, one session lookup per statement) cost more CPU than that work
(docs/performance.md, "Token endpoint"). Here the three grants the relying parties use every
minute (authorization_code with PKCE, refresh_token with rotation, client_credentials) are
checked and answered directly, with the same statements (token_queries.py), the same
services and the same response.

The lean path only ever *succeeds*. It answers a request only when every check Authlib's
grants (grants.py) would make passes; at the first doubt it returns None **before anything
is written or spent**, and the view runs the Authlib path, which makes the same checks
again and gives today's answer (errors byte for byte, codes burned, grants revoked on
reuse). So errors have one implementation. What the lean path never takes:
- a DPoP proof, a client that must send one, or a DPoP-bound refresh token of a public
  client (DPoPBinding: the proof's signature and jti dominate such a request anyway);
- private_key_jwt or several authentication methods; a query string; any parameter that
  does not check out.
The one decision taken after a write is the spending UPDATE's: a code or refresh token spent
by a concurrent request meanwhile (row count 0) gets the same invalid_grant as the Authlib
path, from the same TokenService method (which revokes the grant on reuse).

No Flask here: the view, or token_server.TokenServer before Flask, hands in the request's
environ and form and turns (status, payload, headers) into a response.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749.errors import InvalidGrantError, OAuth2Error
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oauth2.rfc7636.challenge import CODE_VERIFIER_PATTERN

from idp.oidc.grants import USER_SCOPES, active_person
from idp.oidc.server import PasserelleServer, client_from_basic_header
from idp.oidc.token_queries import (
    CODE,
    FIND_CODE,
    FIND_REFRESH,
    REFRESH,
    FoundCode,
    FoundToken,
    GrantContext,
    found,
)
from idp.oidc.tokens import TokenService
from idp.ops import metrics
from idp.security.secrets import new_token

# Client authentication methods per grant, as the Authlib grants declare them.
_CODE_AND_REFRESH_METHODS = frozenset(("client_secret_basic", "client_secret_post", "none"))
_CLIENT_CREDENTIALS_METHODS = frozenset(("client_secret_basic", "client_secret_post"))


def lean_token_answer(server: PasserelleServer, environ, form, session,
                      connection=None) -> tuple[int, dict[str, Any], Any] | None:
    """(status, payload, headers) of the token response for a request the lean path can
    answer, else None (nothing written: the caller goes on to the Authlib path).

    environ: the WSGI environ (query string, DPoP and Authorization headers); form: the
    body's parameters, checked (endpoints.form_problem, or the same checks in
    token_server); session: the database session (clients are read there);
    connection: where the token statements run, the session's own by default
    (token_server gives a driver_sql.DriverConnection). Used by the Flask view and by
    token_server.TokenServer, which answers before Flask."""
    if environ.get("QUERY_STRING") or "HTTP_DPOP" in environ:
        return None
    grant_type = form.get("grant_type")
    answer = _GRANTS.get(grant_type)
    if answer is None:
        return None
    client, method = authenticated_client(server, environ.get("HTTP_AUTHORIZATION"), form, session)
    if client is None or not client.check_grant_type(grant_type) or client.dpop_bound_access_tokens:
        return None
    if method not in (_CLIENT_CREDENTIALS_METHODS if grant_type == "client_credentials" else _CODE_AND_REFRESH_METHODS):
        return None
    try:
        return answer(server, _tokens(server, session, connection), client, method, form)
    except OAuth2Error as error:  # lost the spending UPDATE to a concurrent request
        return error(server.get_error_uri(None, error))


def authenticated_client(server: PasserelleServer, authorization: str | None, form, session):
    """(client, method) when the request authenticates its client with exactly one of
    client_secret_basic, client_secret_post or none, as Authlib's ClientAuthentication and
    PasserelleServer.authenticate_client would accept it; else (None, None). Also the
    introspection and revocation answered before Flask (resource_server)."""
    if "client_assertion" in form or "client_assertion_type" in form:
        return None, None

    def query_client(client_id):
        return server.clients.get(session, client_id)

    if authorization is not None:
        if "client_secret" in form:
            return None, None
        client = client_from_basic_header(query_client, authorization)
        method = "client_secret_basic"
    elif "client_secret" in form:
        client_id, secret = form.get("client_id"), form["client_secret"]
        client = query_client(client_id) if client_id and secret else None
        if client is not None and not client.check_client_secret(secret):
            client = None
        method = "client_secret_post"
    else:
        client = query_client(form.get("client_id"))
        method = "none"
    if client is None or client.token_endpoint_auth_method != method:
        return None, None
    body_client_id = form.get("client_id")
    if body_client_id is not None and body_client_id != client.client_id:
        return None, None
    return client, method


def _code_exchange(server: PasserelleServer, tokens: TokenService, client, method: str, form):
    """authorization_code (RFC 6749 §4.1.3) with PKCE S256 (RFC 7636 §4.6), as
    grants.AuthorizationCodeGrant and PasserelleCodeChallenge check it."""
    plain_code = form.get("code")
    if not plain_code:
        return None
    code_hash, row, now = _looked_up(server, tokens, CODE, plain_code)
    # Unknown, foreign, spent (reuse revokes: the Authlib path does it), expired, or its
    # session over: not for this path.
    if (row is None or row.client_id != client.client_id or row.consumed_at is not None
            or row.expires_at <= now or not row.session_alive):
        return None
    code: FoundCode = found(FoundCode, row)
    if form.get("redirect_uri") != code.redirect_uri or not _verifier_matches(code, form.get("code_verifier"), method):
        return None
    person = active_person(code.person)
    if person is None:
        return None
    # Minted and signed first: the write lock is taken by the spending UPDATE, held to the commit.
    grant_context = tokens.context_of(code)
    row, token = tokens.mint(grant_context, include_refresh_token=client.check_grant_type("refresh_token"))
    _add_id_token(server, client, person, grant_context, token, nonce=code.nonce)
    if not tokens.spend_code_hash(code_hash, client.client_id):
        raise InvalidGrantError("Invalid 'code' in request.")
    tokens.record(row)
    metrics.count_token("authorization_code", client.client_id)
    return 200, token, default_json_headers


def _verifier_matches(code: FoundCode, verifier: str | None, method: str) -> bool:
    """PKCE as PasserelleCodeChallenge.validate_code_verifier accepts it."""
    if not code.code_challenge:
        # No challenge: no verifier either, and never for a public client (method none).
        return not verifier and method != "none"
    return (bool(verifier) and code.code_challenge_method in (None, "S256")
            and CODE_VERIFIER_PATTERN.match(verifier) is not None
            and hmac.compare_digest(create_s256_code_challenge(verifier), code.code_challenge))


def _refresh(server: PasserelleServer, tokens: TokenService, client, method: str, form):
    """refresh_token (RFC 6749 §6) with rotation, as grants.RefreshTokenGrant checks it."""
    plain_refresh = form.get("refresh_token")
    if not plain_refresh:
        return None
    refresh_hash, row, now = _looked_up(server, tokens, REFRESH, plain_refresh)
    if (row is None or row.revoked_at or row.rotated_at or not row.refresh_expires_at
            or row.refresh_expires_at <= now or row.client_id != client.client_id):
        return None
    parent: FoundToken = found(FoundToken, row)
    if parent.is_bound_to_a_dead_session() or (parent.dpop_jkt is not None and client.is_public):
        return None
    requested = form.get("scope")
    granted = parent.grant_scope.split()
    if requested and any(value not in granted for value in requested.split()):
        return None
    person = active_person(parent.person)
    if person is None:
        return None
    # A narrower scope narrows this access token only; the grant keeps its scope. Minted
    # and signed before the rotating UPDATE, which takes the write lock (as _code_exchange).
    grant_context = tokens.context_of(parent, scope=requested or parent.grant_scope)
    row, token = tokens.mint(grant_context, include_refresh_token=True)
    _add_id_token(server, client, person, grant_context, token, nonce=None)
    if not tokens.rotate_refresh_token_hash(refresh_hash, client.client_id):
        raise InvalidGrantError("The refresh token is invalid, expired or revoked.")
    tokens.record(row)
    metrics.count_token("refresh_token", client.client_id)
    return 200, token, default_json_headers


def _client_credentials(server: PasserelleServer, tokens: TokenService, client, method: str, form):
    """client_credentials (RFC 6749 §4.4), as grants.ClientCredentialsGrant checks it."""
    allowed = [value for value in client.scopes if value not in USER_SCOPES]
    requested = (form.get("scope") or "").split()
    if any(value not in allowed for value in requested):
        return None
    grant_context = GrantContext(grant_id=new_token(16), client_id=client.client_id, user_id=None, session_id=None,
                                 scope=" ".join(requested or allowed))
    token = tokens.issue(grant_context, include_refresh_token=False)
    metrics.count_token("client_credentials", client.client_id)
    return 200, token, default_json_headers


def _add_id_token(server: PasserelleServer, client, person, grant_context: GrantContext, token: dict[str, Any],
                  nonce: str | None) -> None:
    """The ID token, when the scope includes openid (grants.IdTokenExtension)."""
    if "openid" in token.get("scope", "").split():
        token["id_token"] = server.sign_id_token(client=client, user=person, context=grant_context, nonce=nonce,
                                                 access_token=token["access_token"])


def _tokens(server: PasserelleServer, session, connection) -> TokenService:
    """The token service on the given connection, or on the session's, asked for once."""
    context = server.context
    return TokenService(session, context.settings, context.clock, context.hasher,
                        connection=session.connection() if connection is None else connection)


_FIND = {CODE: FIND_CODE, REFRESH: FIND_REFRESH}


def _looked_up(server: PasserelleServer, tokens: TokenService, kind: str, plain_secret: str):
    """(the secret's keyed hash, the row FIND_CODE or FIND_REFRESH reads for it or None, the
    time it was read at): TokenService.find_* without a write, the hash made once for the
    read and the spending UPDATE."""
    context = server.context
    now = context.clock()
    secret_hash = context.hasher.hash(kind, plain_secret)
    row = tokens.connection.execute(_FIND[kind], {
        "hash": secret_hash, "now": now, "idle_since": now - timedelta(seconds=context.settings.SESSION_IDLE_TIMEOUT),
    }).one_or_none()
    return secret_hash, row, now


_GRANTS = {
    "authorization_code": _code_exchange,
    "refresh_token": _refresh,
    "client_credentials": _client_credentials,
}
