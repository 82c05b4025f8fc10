"""UserInfo, introspection and revocation answered before Flask (issue 10): their usual
successful requests without a page's request context, routing, hooks and response objects.

Resource servers call these endpoints on every API request they serve; the work is a keyed
hash and one or two statements, and Flask's request machinery around it cost more than that
(docs/performance.md, "Hot paths"). `ResourceServer` (idp.oidc.before_flask.BeforeFlask, in
front of the app) takes:

- GET /userinfo with `Authorization: Bearer` and no body; POST /userinfo with a small form body
  carrying `access_token` (and no Authorization header) or the Bearer header;
- POST /introspect and POST /revoke with a small form body carrying `token`, from a client
  authenticating with client_secret_basic or client_secret_post (token_endpoint's check,
  the one Authlib's would make), while its address has failed authentications left;

never a query string or a DPoP header. It answers only successes, with the view's bytes and
headers: UserInfo's claims of a live Bearer token with the openid scope whose person may still
sign in (the organization scope is left to Flask: its membership is read through the ORM);
introspection's answer, `{"active": false}` included (RFC 7662: no error); revocation's `{}`,
its UPDATE committed. The statements (token_queries, resource_queries) run on a pooled driver
connection. Everything else (an unknown, expired, DPoP-bound or scope-less token at
UserInfo, a failed or other client authentication, the failure limit, any error) reaches
Flask untouched, which answers it as it always has: errors have one implementation.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager

from flask import Flask

from idp.extensions import db
from idp.oidc import claims as oidc_claims
from idp.oidc import endpoints, resource_queries, token_endpoint
from idp.oidc.before_flask import JSON_NO_STORE, BeforeFlask, read_form
from idp.oidc.server import PasserelleServer
from idp.oidc.token_queries import FIND_ACCESS, FIND_REFRESH
from idp.oidc.tokens import TokenService
from idp.web import client_auth_limit

USERINFO = "/userinfo"
# Path -> the endpoint's name (for the metrics and the log line).
ENDPOINTS = {USERINFO: "oidc.userinfo", "/introspect": "oidc.introspect", "/revoke": "oidc.revoke"}
SECRET_METHODS = frozenset(("client_secret_basic", "client_secret_post"))
# The longest access token UserInfo looks up (endpoints.userinfo).
MAX_TOKEN = 512

STATEMENTS = {statement: None for statement in (
    FIND_ACCESS, FIND_REFRESH, resource_queries.PERSON_CLAIMS,
    resource_queries.TOKEN_BY_REFRESH, resource_queries.TOKEN_BY_ACCESS,
    resource_queries.REVOKE_GRANT, resource_queries.REVOKE_ACCESS,
)}


class ResourceServer(BeforeFlask):
    """WSGI middleware: the usual UserInfo, introspection and revocation requests."""

    what = "resource request"

    def __init__(self, wsgi_app, app: Flask, server: PasserelleServer, common_headers: list[tuple[str, str]],
                 gate: AbstractContextManager):
        super().__init__(wsgi_app, app, common_headers, STATEMENTS, gate)
        self.server = server

    def take(self, environ):
        path = environ.get("PATH_INFO")
        endpoint = ENDPOINTS.get(path)
        method = environ.get("REQUEST_METHOD")
        if endpoint is None or environ.get("QUERY_STRING") or "HTTP_DPOP" in environ:
            return None
        if path == USERINFO:
            plain_token = userinfo_token(environ, method)
            return (endpoint, (path, plain_token)) if plain_token else None
        if method != "POST":
            return None
        form = read_form(environ)
        return (endpoint, (path, form)) if form is not None and form.get("token") else None

    def answer(self, environ, taken):
        path, request_input = taken
        if path == USERINFO:
            return self.on_driver(lambda connection: self._userinfo(request_input, connection), commit=False)
        if client_auth_limit.retry_after(environ.get("REMOTE_ADDR") or "127.0.0.1") is not None:
            return None  # the view answers 429
        client, method = token_endpoint.authenticated_client(self.server, environ.get("HTTP_AUTHORIZATION"),
                                                             request_input, db.session)
        if client is None or method not in SECRET_METHODS:
            return None
        if path == "/introspect":
            return self.on_driver(lambda connection: self._introspection(client, request_input["token"], connection),
                                  commit=False)
        return self.on_driver(lambda connection: self._revocation(client, request_input, connection), commit=True)

    def _tokens(self, connection) -> TokenService:
        context = self.server.context
        return TokenService(db.session, context.settings, context.clock, context.hasher, connection=connection)

    def _userinfo(self, plain_token: str, connection):
        """endpoints.userinfo's success, for a token it would answer 200."""
        token = self._tokens(connection).find_active_access_token(plain_token)
        if (token is None or token.dpop_jkt is not None or token.user_id is None
                or "openid" not in token.scope.split() or oidc_claims.ORGANIZATION_SCOPE in token.scope.split()):
            return None
        person = endpoints.active_person(token)
        client = self.server.clients.get(db.session, token.client_id)
        if person is None or client is None:
            return None
        body = endpoints.userinfo_body(self.server, token, person, client, connection)
        return None if body is None else json_answer(body)

    def _introspection(self, client, plain_token: str, connection):
        return json_answer(endpoints.introspection(self.server, client, plain_token, self._tokens(connection)))

    def _revocation(self, client, form: dict[str, str], connection):
        self._tokens(connection).revoke(form["token"], client.client_id, form.get("token_type_hint"))
        return 200, b"{}", list(JSON_NO_STORE)


def userinfo_token(environ, method: str | None) -> str | None:
    """The access token of a UserInfo request as endpoints.userinfo reads it (RFC 6750 §2.1,
    §2.2), or None when this path leaves the request to the view."""
    if method == "GET":
        if (environ.get("CONTENT_LENGTH") not in (None, "", "0") or environ.get("CONTENT_TYPE")
                or "HTTP_TRANSFER_ENCODING" in environ):
            return None  # a body: the input guard reads it (and may refuse it)
        return bearer_token(environ.get("HTTP_AUTHORIZATION", ""))
    form = read_form(environ) if method == "POST" else None
    if form is None:
        return None
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if "access_token" in form:
        return form["access_token"] if not authorization else None  # both: the view's 400
    return bearer_token(authorization)


def bearer_token(authorization: str) -> str | None:
    """The token of a Bearer Authorization header value, as endpoints.userinfo reads it, or
    None (another scheme, DPoP included, or a token UserInfo would not look up)."""
    scheme, _, value = authorization.partition(" ")
    token = value.strip()
    return token if scheme.lower() == "bearer" and 0 < len(token) <= MAX_TOKEN else None


def json_answer(body) -> tuple[int, bytes, list[tuple[str, str]]]:
    return 200, json.dumps(body).encode(), list(JSON_NO_STORE)
