"""The machine endpoints' logic: request shape checks, UserInfo and introspection."""

from __future__ import annotations

import hmac
import re
from typing import Any

from flask import Request

from idp.extensions import db
from idp.oidc import claims as oidc_claims
from idp.oidc import dpop, resource_queries
from idp.oidc.directory import OAuthClient
from idp.oidc.errors import DPoPError
from idp.oidc.server import PasserelleServer
from idp.oidc.token_queries import FoundToken, Person
from idp.oidc.tokens import TokenService

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# Grant types are short ASCII names or URIs; Authlib echoes them into error descriptions.
GRANT_TYPE_PATTERN = re.compile(r"[A-Za-z0-9_:.\-]{1,200}")
DPOP_ALGS = " ".join(dpop.SIGNING_ALGS)


def form_problem(request: Request, required: str | None) -> str | None:
    """Why a token-style POST cannot be processed (RFC 6749 §3.2, §5.2), or None."""
    if request.mimetype != FORM_CONTENT_TYPE:
        return "The body must be application/x-www-form-urlencoded."
    for key in request.form:
        if len(request.form.getlist(key)) > 1:
            return f"The parameter '{key}' is repeated."
    if any(key in request.form for key in request.args):
        return "Parameters must not be repeated in the query."
    if required and not request.form.get(required):
        return f"Missing '{required}' parameter."
    if required == "grant_type" and not GRANT_TYPE_PATTERN.fullmatch(request.form["grant_type"]):
        return "Invalid 'grant_type'."
    return None


def userinfo(server: PasserelleServer, request: Request) -> tuple[int, dict[str, Any], dict[str, str]]:
    """OIDC Core §5.3 with RFC 6750 errors. Returns (status, body, headers)."""
    header = request.headers.get("Authorization", "")
    in_body = request.method == "POST" and request.mimetype == FORM_CONTENT_TYPE and "access_token" in request.form
    scheme, _, header_token = header.partition(" ")
    scheme = "bearer" if in_body else scheme.lower()
    if header and in_body:
        return _bearer_error(400, "invalid_request", "Send the access token one way only.")
    if in_body:
        plain_token = request.form.get("access_token", "")
    elif scheme in ("bearer", "dpop") and header_token.strip():
        plain_token = header_token.strip()
    else:
        challenge = f'Bearer realm="passerelle", DPoP algs="{DPOP_ALGS}"'
        return 401, {"error": "invalid_token", "error_description": "An access token is required."}, {"WWW-Authenticate": challenge}
    token = server.tokens().find_active_access_token(plain_token) if len(plain_token) <= 512 else None
    if token is None:
        return _bearer_error(401, "invalid_token", "The access token is invalid, expired or revoked.")
    if token.dpop_jkt is not None or scheme == "dpop":
        refusal = dpop_refusal(server, request, token, plain_token, scheme)
        if refusal:
            return refusal
    if token.user_id is None or "openid" not in token.scope.split():
        return _bearer_error(403, "insufficient_scope", "The access token does not carry the openid scope.")
    person = active_person(token)
    client = server.clients.get(db.session, token.client_id)
    body = userinfo_body(server, token, person, client, db.session.connection()) if person and client else None
    if body is None:
        return _bearer_error(401, "invalid_token", "The access token is no longer valid.")
    return 200, body, {}


def userinfo_body(server: PasserelleServer, token: FoundToken, person: Person, client: OAuthClient,
                  connection) -> dict[str, Any] | None:
    """The claims of a usable token with the openid scope, or None when the person's record
    is gone. connection: where the person's columns are read (the session's, or the driver
    connection of resource_server, which leaves the organization scope to this view)."""
    # The `claims` parameter's userinfo member adds nothing: the scopes already release
    # every claim it may name (idp.oidc.claims.claims_for_scope). The person's columns are
    # read only when the scope releases some (not for `openid` alone).
    released = {}
    if oidc_claims.scope_claim_names(token.scope) - {"organization"}:
        record = resource_queries.person_claims(connection, person.id)
        if record is None:
            return None
        released = oidc_claims.claims_for_scope(token.scope, oidc_claims.user_claims(record))
    return {
        **released,
        **server.organization_claims(token.scope, person.id),
        "sub": server.subject(client, person),
    }


def active_person(token: FoundToken) -> Person | None:
    """The token's person, read with it, when they may still sign in (User.is_active)."""
    person = token.person
    return person if person is not None and person.is_active else None


def dpop_refusal(server: PasserelleServer, request: Request, token, plain_token: str, scheme: str):
    """Why a DPoP-bound token (or one sent with the DPoP scheme) may not be used at this
    resource (UserInfo, the APIs of idp/web/bearer.py), as the (status, body, headers) to
    answer, or None (RFC 9449 §7). A good proof's jti is spent: the caller commits."""
    if token.dpop_jkt is None:
        return _dpop_error("invalid_token", "This access token is not DPoP-bound: send it with the Bearer scheme.")
    if scheme != "dpop":
        return _dpop_error("invalid_token", "This access token is DPoP-bound: send it as 'Authorization: DPoP' with a DPoP proof.")
    client = server.clients.get(db.session, token.client_id)
    try:
        raw = dpop.proof_header(request.headers)
        if raw is None:
            raise DPoPError("A DPoP proof (the DPoP header) is required with a DPoP-bound access token.")
        proof = server.dpop().verify(raw, method=request.method, url=server.issuer + request.path,
                                     access_token=plain_token,
                                     require_nonce=client is not None and client.dpop_require_nonce,
                                     algorithms=dpop.algorithms_for(client))
    except DPoPError as problem:
        return _dpop_error(problem.error, problem.description, problem.nonce)
    if not hmac.compare_digest(proof.jkt, token.dpop_jkt):
        return _dpop_error("invalid_dpop_proof", "The DPoP proof is signed with another key than the access token's.")
    return None


def introspection(server: PasserelleServer, client: OAuthClient, plain_token: str,
                  tokens: TokenService | None = None) -> dict[str, Any]:
    """RFC 7662. A client may introspect only its own tokens; anything else is inactive.
    tokens: the token service to read with (server.tokens() by default)."""
    tokens = tokens or server.tokens()
    token = tokens.find_active_access_token(plain_token)
    token_type = "Bearer"
    if token is None:
        token = tokens.find_active_refresh_token(plain_token)
        token_type = "refresh_token"
    if token is None or token.client_id != client.client_id:
        return {"active": False}
    expires_at = token.access_expires_at if token_type == "Bearer" else token.refresh_expires_at
    body: dict[str, Any] = {
        "active": True,
        # A refresh token can get back the grant's whole scope, whatever a narrowing refresh
        # gave the access token issued with it.
        "scope": token.scope if token_type == "Bearer" else token.grant_scope,
        "client_id": token.client_id,
        "token_type": token_type,
        "exp": int(expires_at.timestamp()),
        "iat": int(token.issued_at.timestamp()),
        "iss": server.issuer,
        "aud": token.client_id,
    }
    if token.dpop_jkt is not None:
        # RFC 9449 §6.2: the resource server checks the proofs against this key.
        body["cnf"] = {"jkt": token.dpop_jkt}
        if token_type == "Bearer":
            body["token_type"] = "DPoP"
    person = active_person(token) if token.user_id else None
    if token.user_id and person is None:
        return {"active": False}
    if person is not None:
        body["sub"] = server.subject(client, person)
    return body


def _bearer_error(status: int, error: str, description: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    challenge = f'Bearer realm="passerelle", error="{error}", error_description="{description}"'
    return status, {"error": error, "error_description": description}, {"WWW-Authenticate": challenge}


def _dpop_error(error: str, description: str, nonce: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """401 with a DPoP challenge (RFC 9449 §7.1), and the nonce to use when one is asked for."""
    headers = {"WWW-Authenticate": f'DPoP algs="{DPOP_ALGS}", error="{error}", error_description="{description}"'}
    if nonce:
        headers["DPoP-Nonce"] = nonce
    return 401, {"error": error, "error_description": description}, headers
