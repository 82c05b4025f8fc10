"""Machine endpoints: what relying parties, resource servers and probes call, never a
person's browser (issue 10, Hot paths).

They need none of what pages need: no session cookie, no language, no CSRF token, no
per-address page limits. Two lean paths follow from that:

- Discovery and the JWKS are documents: bytes built once (per key change for the JWKS),
  with a strong ETag and Cache-Control. `DocumentServer`, a WSGI middleware in front of
  Flask, answers a plain GET or HEAD of them (200, or 304 on a matching If-None-Match) with
  the same headers as every response (idp.web.headers), the request id, the request metrics
  and the log line (idp.ops.hooks), and nothing else. Anything else on those paths (a query
  string, another method, a key reload that fails) goes on to Flask, whose views answer
  the same bytes and headers.
- Every machine endpoint (`MACHINE_ENDPOINTS`) skips Flask-Limiter's and Flask-WTF's
  request hooks (`init_app`): none has a Flask-Limiter limit and every one is exempt from
  CSRF, and finding that out cost more than the work of a discovery request. Their
  guessable inputs are limited by the lean counter of idp.web.client_auth_limit instead,
  in the same storage.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, request

from idp.extensions import limiter
from idp.ops import hooks, logs

MACHINE_ENDPOINTS = frozenset({
    "oidc.discovery", "oidc.jwks", "oidc.token", "oidc.userinfo", "oidc.introspect", "oidc.revoke",
    "ops.live", "ops.ready", "ops.scrape",
})


def init_app(app: Flask) -> None:
    """Pages only: Flask-Limiter's check and Flask-WTF's CSRF check skip machine endpoints
    (the CSRF check would let them through anyway: every one is exempt, no cookie there
    proves anything). Run after both extensions are bound to the app."""
    hooks_list = app.before_request_funcs.setdefault(None, [])
    gated = 0
    for index, hook in enumerate(hooks_list):
        if getattr(hook, "__self__", None) is limiter or getattr(hook, "__qualname__", "").startswith("CSRFProtect."):
            hooks_list[index] = pages_only(hook)
            gated += 1
    # Flask-Limiter adds no hook to an app where it is turned off (RATELIMIT_ENABLED = false).
    expected = 2 if app.config.get("RATELIMIT_ENABLED", True) else 1
    if gated != expected:
        raise RuntimeError(f"expected {expected} of Flask-Limiter's and Flask-WTF's request hooks, found {gated}")


def pages_only(hook: Callable[[], Any]) -> Callable[[], Any]:
    @functools.wraps(hook)
    def unless_machine_endpoint() -> Any:
        if request.endpoint in MACHINE_ENDPOINTS:
            return None
        return hook()

    return unless_machine_endpoint


@dataclass(frozen=True, slots=True)
class Document:
    """A JSON document served as is: its bytes, their ETag and how long caches keep it."""

    body: bytes
    etag: str
    cache_control: str


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match against our strong tag, with the weak comparison RFC 9110 §13.1.2 asks."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def document_headers(document: Document, status: int, common: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A document response's headers; a 304 carries no entity headers (as Werkzeug does)."""
    entity = [] if status == 304 else [("Content-Type", "application/json"), ("Content-Length", str(len(document.body)))]
    return [*entity, ("Cache-Control", document.cache_control), ("ETag", document.etag), *common]


STATUS_LINES = {200: "200 OK", 304: "304 NOT MODIFIED"}


class DocumentServer:
    """WSGI middleware: GET and HEAD of the documents, answered before Flask.

    routes: path -> (endpoint name, a function giving the Document, or None to let Flask
    answer). common_headers: the security headers of every response.
    """

    def __init__(self, wsgi_app, routes: dict[str, tuple[str, Callable[[], Document | None]]],
                 common_headers: list[tuple[str, str]]):
        self.wsgi_app = wsgi_app
        self.routes = routes
        self.common_headers = common_headers

    def __call__(self, environ, start_response):
        route = self.routes.get(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD")
        if route is None or method not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        endpoint, document_of = route
        document = document_of()
        if document is None:
            return self.wsgi_app(environ, start_response)
        request_id = hooks.new_request_id(environ.get("HTTP_X_REQUEST_ID"))
        status = 304 if etag_matches(environ.get("HTTP_IF_NONE_MATCH"), document.etag) else 200
        headers = document_headers(document, status, self.common_headers)
        headers.append((hooks.REQUEST_ID_HEADER, request_id))
        start_response(STATUS_LINES[status], headers)
        token = logs.REQUEST_ID.set(request_id)
        try:
            hooks.record_request(endpoint, method, status, time.perf_counter() - started)
        finally:
            logs.REQUEST_ID.reset(token)
        return [document.body] if status == 200 and method == "GET" else []
