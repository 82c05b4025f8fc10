"""POST /token answered before Flask (issue 10): the lean path's successes without a page's
request context, routing, hooks and response objects.

Relying parties call the token endpoint every minute; a code exchange is a keyed hash, three
statements, a commit and an ES256 signature, and Flask's request machinery around it cost more
than that work (docs/performance.md, "Token endpoint"). `TokenServer`, a WSGI middleware in
front of the app (inside ProxyFix, so REMOTE_ADDR is the client's), takes a request only when
token_endpoint.lean_token_answer may answer it: POST, no query string, no DPoP proof, a form
body of at most MAX_BODY bytes, all ASCII, with no NUL and no repeated parameter. It reads
the body once and puts it back into the environ, so that whatever it leaves goes on to Flask
untouched: lean_token_answer returned None, the address used up its failed client
authentications, a key reload or a database error (rolled back: nothing was written). Flask's
view then checks everything again and answers as it always has, errors included.

What it answers carries the view's body and headers, the headers of every response
(idp.web.headers), the request id, the request metrics and the log line (idp.ops.hooks).
"""

from __future__ import annotations

import io
import json
import logging
import time
from http import HTTPStatus
from urllib.parse import parse_qsl

from flask import Flask

from idp.extensions import db
from idp.oidc import driver_sql, token_endpoint
from idp.oidc.driver_sql import NotPrepared
from idp.oidc.token_queries import FIND_CODE, FIND_REFRESH, INSERT_TOKEN, INSERT_TOKEN_KEYS, ROTATE_REFRESH, SPEND_CODE
from idp.oidc.server import PasserelleServer
from idp.ops import hooks, logs
from idp.web import client_auth_limit

log = logging.getLogger(__name__)

PATH = "/token"
ENDPOINT = "oidc.token"
FORM = "application/x-www-form-urlencoded"
# A token request's body is a few hundred bytes; anything larger is Flask's to judge.
MAX_BODY = 4096


# The statements of the lean path's successes (a lost race needs others: NotPrepared).
TOKEN_STATEMENTS = {FIND_CODE: None, SPEND_CODE: None, FIND_REFRESH: None, ROTATE_REFRESH: None,
                    INSERT_TOKEN: INSERT_TOKEN_KEYS}


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase.upper()}"


class TokenServer:
    """WSGI middleware: the token requests the lean path answers, before Flask."""

    def __init__(self, wsgi_app, app: Flask, server: PasserelleServer, common_headers: list[tuple[str, str]]):
        self.wsgi_app = wsgi_app
        self.app = app
        self.server = server
        self.common_headers = common_headers
        self._prepared: dict[str, dict] = {}  # dialect name -> the prepared statements

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST"
                or environ.get("QUERY_STRING") or "HTTP_DPOP" in environ):
            return self.wsgi_app(environ, start_response)
        form = read_form(environ)
        if form is None or "\x00" in environ.get("HTTP_AUTHORIZATION", ""):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        request_id = hooks.new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        context_token = logs.REQUEST_ID.set(request_id)
        try:
            answer = self._answer(environ, form)
            if answer is not None:
                status, body, headers = answer
                headers = [*headers, ("Content-Length", str(len(body))), *self.common_headers,
                           (hooks.REQUEST_ID_HEADER, request_id)]
                start_response(status_line(status), headers)
                hooks.record_request(ENDPOINT, "POST", status, time.perf_counter() - started)
                return [body]
        finally:
            logs.REQUEST_ID.reset(context_token)
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ, form: dict[str, str]) -> tuple[int, bytes, list[tuple[str, str]]] | None:
        """(status, body, headers) once committed, or None with nothing written."""
        with self.app.app_context():
            try:
                if client_auth_limit.retry_after(environ.get("REMOTE_ADDR") or "127.0.0.1") is not None:
                    return None  # the view answers 429
                # Any key reload happens now, not inside the write transaction.
                self.server.active_keys()
                return self._answer_on_driver(environ, form)
            except NotPrepared:
                return None  # a lost race: the Authlib path revokes what must be revoked
            except Exception:  # noqa: BLE001 - rolled back: Flask answers, its handlers say why
                log.warning("token request left to Flask after an error", exc_info=True)
                return None

    def _answer_on_driver(self, environ, form: dict[str, str]):
        """The lean answer with its statements on a pooled driver connection, committed."""
        engine = db.engine
        prepared = self._prepared.get(engine.dialect.name)
        if prepared is None:
            prepared = self._prepared[engine.dialect.name] = driver_sql.prepare(engine.dialect, TOKEN_STATEMENTS)
        connection = engine.raw_connection()
        committed = False
        try:
            answer = token_endpoint.lean_token_answer(self.server, environ, form, db.session,
                                                      driver_sql.DriverConnection(connection, prepared))
            if answer is None:
                return None
            status, payload, headers = answer
            body = json.dumps(payload).encode()
            connection.commit()  # may fail: nothing is written then, and Flask answers
            committed = True
        finally:
            # Back to the pool, whose reset rolls back whatever was not committed. Once
            # committed, the answer stands whatever returning the connection says.
            try:
                connection.close()
            except Exception:
                if not committed:
                    raise
                log.warning("returning a database connection failed after a token was issued", exc_info=True)
        return status, body, list(headers)


def read_form(environ) -> dict[str, str] | None:
    """The parameters of a small ASCII form body without NUL or repeats, or None. The body
    read is put back into the environ for Flask."""
    if environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != FORM:
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    if len(body) != length or not body.isascii():
        return None
    # As Werkzeug's form parser reads it (werkzeug.formparser), so both paths see the same values.
    pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, errors="werkzeug.url_quote")
    form = dict(pairs)
    if len(form) != len(pairs) or any("\x00" in key or "\x00" in value for key, value in pairs):
        return None
    return form
