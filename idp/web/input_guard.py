"""Refuse malformed input before any view, hook or error page reads it.

- Bytes that are not UTF-8 in the query string, the path or a form body (issue 9, item 8):
  Werkzeug raises UnicodeDecodeError on the first read of `request.args`, which every page
  does through the locale selector, so the error page failed too and the server answered a
  bare 500 without security headers. Such a request is malformed: 400, with the usual page.
- NUL characters in any parameter: PostgreSQL text cannot hold NUL (0x00) and no legitimate
  OAuth or form value contains one, so 400 here instead of a database error (a 500) later.
- A number in a path (`<int:...>`, a row id) larger than the database's integer columns
  hold: the route does not match (404) instead of failing in the database (a 500).
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

# Set in the WSGI environ of a request whose query string or path is not UTF-8.
MALFORMED_INPUT = "passerelle.malformed_input"


# The largest id an integer column holds (PostgreSQL's integer; SQLite's is larger).
LARGEST_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: at most LARGEST_ROW_ID unless the route says otherwise."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, LARGEST_ROW_ID if max is None else max, signed)


def init_app(app: Flask) -> None:
    # Before any route is added: each binds its converters when it joins the map.
    app.url_map.converters["int"] = RowIdConverter
    app.wsgi_app = UndecodableInputGuard(app.wsgi_app)  # type: ignore[method-assign]
    # First of the app's hooks, so none (CSRF, rate limits) reads a body refused here.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_malformed_input)


def is_utf8(wsgi_text: str) -> bool:
    """Whether a WSGI environ string (raw bytes decoded as latin-1, PEP 3333) is UTF-8."""
    if wsgi_text.isascii():
        return True
    try:
        wsgi_text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return False
    return True


class UndecodableInputGuard:
    """WSGI middleware: a query string or path that is not UTF-8 marks the request malformed
    and the query string is emptied, so that nothing (the locale selector of the error page
    included) can fail on it before `refuse_malformed_input` answers 400."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if not (is_utf8(environ.get("QUERY_STRING", "")) and is_utf8(environ.get("PATH_INFO", ""))):
            environ["QUERY_STRING"] = ""
            environ[MALFORMED_INPUT] = True
        return self.wsgi_app(environ, start_response)


def refuse_malformed_input() -> None:
    if request.environ.get(MALFORMED_INPUT):
        abort(400)
    is_form = request.mimetype == "application/x-www-form-urlencoded"
    # Werkzeug would silently parse such a body as an empty form; the raw body is kept for
    # the form parser, which reads it again from the cache.
    if is_form and not request.get_data(cache=True).isascii():
        try:
            request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            abort(400)
    sources = [request.args]
    if is_form or request.mimetype == "multipart/form-data":
        sources.append(request.form)
    for values in sources:
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    if "\x00" in request.headers.get("Authorization", ""):
        abort(400)
