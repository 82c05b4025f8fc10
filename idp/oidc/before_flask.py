"""What the machine endpoints answered before Flask share (issue 10): token_server (POST
/token) and resource_server (UserInfo, introspection, revocation).

`BeforeFlask` is a WSGI middleware in front of the app (inside ProxyFix, so REMOTE_ADDR is
the client's). A subclass says which requests it takes (`take`: a cheap look at the environ,
and the form body read by `read_form`, put back into the environ) and answers them
(`answer`: (status, body, headers), or None). What it answers carries, besides the view's
body and headers, the headers of every response (idp.web.headers), the request id, the
request metrics and the log line (idp.ops.hooks), as Flask's hooks would add them. Whatever
it does not answer goes on to Flask untouched: None from `answer`, a statement that was not
prepared (driver_sql.NotPrepared), or any error (logged; what was not committed is rolled
back). Flask's views then check everything again and answer as they always have, errors
included: errors have one implementation.

Both middlewares share one gate per process (`machine_gate`, setting MACHINE_REQUESTS_AT_ONCE):
on SQLite, one machine request at a time does its work; the others wait on one lock
without the GIL instead of taking turns at it (docs/performance.md, "One machine request at
a time"). It also keeps them from taking the whole connection pool.

`on_driver` runs a piece of work on a pooled DBAPI connection with the subclass's statements
compiled once per dialect (idp.oidc.driver_sql), committed or not.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask

from idp.extensions import db
from idp.oidc import driver_sql
from idp.oidc.driver_sql import NotPrepared
from idp.ops import hooks, logs

FORM = "application/x-www-form-urlencoded"
# A token, introspection or revocation request's body is a few hundred bytes; anything
# larger is Flask's to judge.
MAX_BODY = 4096

Answer = tuple[int, bytes, list[tuple[str, str]]]
# The headers of Flask's json_response (idp.oidc.views), in its order.
JSON_NO_STORE = (("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("Pragma", "no-cache"))


# QueuePool's defaults, which SQLALCHEMY_ENGINE_OPTIONS may change.
POOL_SIZE, POOL_OVERFLOW = 5, 10
# Machine requests one process works on at once on PostgreSQL with "auto".
AT_ONCE_ELSEWHERE = 4


def machine_gate(setting: int | str, database_uri: str, engine_options: dict[str, Any]) -> AbstractContextManager:
    """What a machine request holds while it is answered before Flask: at most `setting`
    at once per process, or with "auto" one on SQLite and AT_ONCE_ELSEWHERE elsewhere.

    Why one on SQLite: the work is a fraction of a millisecond of CPU with one file lock
    for every writer, so requests running side by side only trade the GIL and that lock
    back and forth (a thread wake-up each time). Waiting on one lock instead costs one
    wake-up per request. PostgreSQL's round trips leave the CPU idle, so a few run side by
    side there. Never more than half the connection pool: each may hold two connections
    (its statements' and, for a client or person not cached, the ORM session's), and
    requests that all hold one and wait for a second would wait for each other until the
    pool's timeout. The body is read before the gate: a slow client never holds it."""
    if setting == "auto":
        limit = 1 if database_uri.startswith("sqlite") else AT_ONCE_ELSEWHERE
    elif isinstance(setting, int) and not isinstance(setting, bool) and setting >= 1:
        limit = setting
    else:
        raise ValueError(f"MACHINE_REQUESTS_AT_ONCE must be \"auto\" or a whole number >= 1, not {setting!r}")
    overflow = engine_options.get("max_overflow", POOL_OVERFLOW)
    capacity = None if "poolclass" in engine_options or overflow < 0 else engine_options.get("pool_size", POOL_SIZE) + overflow
    if capacity is not None and 2 * limit > capacity:
        raise ValueError(f"MACHINE_REQUESTS_AT_ONCE ({limit}) may hold two database connections each: give "
                         f"SQLALCHEMY_ENGINE_OPTIONS a pool of at least {2 * limit} (pool_size + max_overflow, "
                         f"now {capacity}), or lower it")
    return threading.Lock() if limit == 1 else threading.BoundedSemaphore(limit)


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase.upper()}"


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


class BeforeFlask:
    """WSGI middleware: the requests a subclass takes and answers, before Flask.

    statements: {Core statement: the column keys of an INSERT, or None}, for on_driver.
    gate: held while a request taken is answered (machine_gate), shared by the middlewares.
    what: how the warning of an error names the request ("token request")."""

    what = "request"

    def __init__(self, wsgi_app, app: Flask, common_headers: list[tuple[str, str]], statements: dict[Any, Any],
                 gate: AbstractContextManager):
        self.wsgi_app = wsgi_app
        self.gate = gate
        self.app = app
        self.common_headers = common_headers
        self.statements = statements
        self.log = logging.getLogger(type(self).__module__)
        self._prepared: dict[str, dict] = {}  # dialect name -> the prepared statements

    def take(self, environ) -> tuple[str, Any] | None:
        """(the endpoint's name, what answer needs) for a request this path may answer,
        else None. Reads no more than a small form body (read_form puts it back)."""
        raise NotImplementedError

    def answer(self, environ, taken: Any) -> Answer | None:
        """(status, body, the view's headers) for a request taken, in the app context, or
        None with nothing written: Flask answers."""
        raise NotImplementedError

    def __call__(self, environ, start_response):
        taken = self.take(environ)
        if taken is None or "\x00" in environ.get("HTTP_AUTHORIZATION", ""):
            return self.wsgi_app(environ, start_response)
        endpoint, request_input = taken
        started = time.perf_counter()
        request_id = hooks.new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        context_token = logs.REQUEST_ID.set(request_id)
        try:
            with self.gate:
                answer = self._answer(environ, request_input)
            if answer is not None:
                status, body, headers = answer
                headers = [*headers, ("Content-Length", str(len(body))), *self.common_headers,
                           (hooks.REQUEST_ID_HEADER, request_id)]
                start_response(status_line(status), headers)
                hooks.record_request(endpoint, environ["REQUEST_METHOD"], status, time.perf_counter() - started)
                return [body]
        finally:
            logs.REQUEST_ID.reset(context_token)
        return self.wsgi_app(environ, start_response)

    def _answer(self, environ, request_input: Any) -> Answer | None:
        with self.app.app_context():
            try:
                return self.answer(environ, request_input)
            except NotPrepared:
                return None  # a case the usual path handles (a lost race)
            except Exception:
                self.log.warning("%s left to Flask after an error", self.what, exc_info=True)
                return None

    def on_driver(self, work: Callable[[driver_sql.DriverConnection], Answer | None], commit: bool) -> Answer | None:
        """work's answer on a pooled driver connection with the prepared statements,
        committed first when commit is true and work answered. Nothing is written when
        work returns None or fails: the pool's reset rolls back."""
        engine = db.engine
        prepared = self._prepared.get(engine.dialect.name)
        if prepared is None:
            prepared = self._prepared[engine.dialect.name] = driver_sql.prepare(engine.dialect, self.statements)
        connection = engine.raw_connection()
        committed = False
        try:
            answer = work(driver_sql.DriverConnection(connection, prepared))
            if answer is not None and commit:
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
                self.log.warning("returning a database connection failed after a %s was answered", self.what,
                                 exc_info=True)
        return answer
