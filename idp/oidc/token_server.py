"""POST /token answered before Flask (issue 10): the lean path's successes without a page's
request context, routing, hooks and response objects.

Relying parties call the token endpoint every minute; a code exchange is a keyed hash, three
statements, a commit and an ES256 signature, and Flask's request machinery around it cost more
than that work (docs/performance.md, "Token endpoint"). `TokenServer`, a WSGI middleware in
front of the app (inside ProxyFix, so REMOTE_ADDR is the client's), takes a request only when
token_endpoint.lean_token_answer may answer it: POST, no query string, no DPoP proof, a form
body of at most before_flask.MAX_BODY bytes, all ASCII, with no NUL and no repeated
parameter. It reads the body once and puts it back into the environ, so that whatever it
leaves goes on to Flask untouched: lean_token_answer returned None, the address used up its
failed client authentications, a key reload or a database error (rolled back: nothing was
written). Flask's view then checks everything again and answers as it always has, errors
included.

What it answers carries the view's body and headers, the headers of every response
(idp.web.headers), the request id, the request metrics and the log line (idp.ops.hooks):
idp.oidc.before_flask, shared with resource_server, does that part.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager

from flask import Flask

from idp.extensions import db
from idp.oidc import token_endpoint
from idp.oidc.before_flask import BeforeFlask, read_form
from idp.oidc.server import PasserelleServer
from idp.oidc.token_queries import FIND_CODE, FIND_REFRESH, INSERT_TOKEN, INSERT_TOKEN_KEYS, ROTATE_REFRESH, SPEND_CODE
from idp.web import client_auth_limit

PATH = "/token"
ENDPOINT = "oidc.token"


# The statements of the lean path's successes (a lost race needs others: NotPrepared).
TOKEN_STATEMENTS = {FIND_CODE: None, SPEND_CODE: None, FIND_REFRESH: None, ROTATE_REFRESH: None,
                    INSERT_TOKEN: INSERT_TOKEN_KEYS}


class TokenServer(BeforeFlask):
    """WSGI middleware: the token requests the lean path answers, before Flask."""

    what = "token request"

    def __init__(self, wsgi_app, app: Flask, server: PasserelleServer, common_headers: list[tuple[str, str]],
                 gate: AbstractContextManager):
        super().__init__(wsgi_app, app, common_headers, TOKEN_STATEMENTS, gate)
        self.server = server

    def take(self, environ):
        if (environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST"
                or environ.get("QUERY_STRING") or "HTTP_DPOP" in environ):
            return None
        form = read_form(environ)
        return None if form is None else (ENDPOINT, form)

    def answer(self, environ, form: dict[str, str]):
        """(status, body, headers) once committed, or None with nothing written."""
        if client_auth_limit.retry_after(environ.get("REMOTE_ADDR") or "127.0.0.1") is not None:
            return None  # the view answers 429
        # Any key reload happens now, not inside the write transaction.
        self.server.active_keys()
        return self.on_driver(lambda connection: self._answer_on_driver(environ, form, connection), commit=True)

    def _answer_on_driver(self, environ, form: dict[str, str], connection):
        """The lean answer with its statements on the driver connection (committed by on_driver)."""
        answer = token_endpoint.lean_token_answer(self.server, environ, form, db.session, connection)
        if answer is None:
            return None
        status, payload, headers = answer
        return status, json.dumps(payload).encode(), list(headers)
