"""Error responses: translated HTML pages for people, JSON for machine endpoints.

No stack trace, SQL or version ever reaches a page (HDR-07).
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

# Back-channel endpoints answer machines; an HTML page there would break a client's parser.
JSON_PATH_PREFIXES = ("/token", "/userinfo", "/revoke", "/introspect", "/jwks", "/.well-known", "/api")

JSON_ERROR_CODES = {
    400: "invalid_request",
    403: "access_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "too_many_requests",
    500: "server_error",
}

PAGES = {
    400: (_l("The request could not be understood"), _l("Something in the request was not valid. Go back and try again.")),
    403: (_l("Access refused"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("Check the address, or go to your account.")),
    405: (_l("Action not allowed"), _l("This page cannot be used this way. Go back and try again.")),
    413: (_l("Too much information sent"), _l("What you sent is too large. Go back and send less.")),
    429: (_l("Too many attempts"), _l("Wait a few minutes, then try again.")),
    500: (_l("Something went wrong"), _l("We could not complete your request. Try again in a few minutes.")),
}
CSRF_PAGE = (
    _l("This form has expired"),
    _l("For your security, the form expired or was sent from another page. Go back, reload the page and try again."),
)


def is_json_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in JSON_PATH_PREFIXES)


# Headers an exception sets for the client, kept on the page that replaces it.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def error_response(code: int, error: HTTPException | None = None, page: tuple | None = None):
    """A JSON body on machine endpoints, otherwise the translated page for this status."""
    kept = {}
    if error is not None:
        original = error.get_response()
        kept = {name: original.headers[name] for name in KEPT_HEADERS if name in original.headers}
    if is_json_path(request.path):
        response = jsonify(error=JSON_ERROR_CODES.get(code, "invalid_request"))
        return response, code, kept
    title, message = page or PAGES.get(code) or (PAGES[500] if code >= 500 else PAGES[400])
    return render_template("errors/error.html", status=code, title=title, message=message), code, kept


def handle_http_error(error: HTTPException):
    return error_response(error.code or 500, error)


def handle_csrf_error(error: CSRFError):
    return error_response(400, page=CSRF_PAGE)


def handle_unexpected_error(error: InternalServerError):
    return error_response(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
