"""Error responses: translated HTML pages for people, JSON for machine endpoints.

No stack trace, SQL or version ever reaches a page (HDR-07).
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import (
    DBAPIError,
    InternalError,
    OperationalError,
    PendingRollbackError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from idp.extensions import db

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
    503: "temporarily_unavailable",
}

PAGES = {
    400: (_l("The request could not be understood"), _l("Something in the request was not valid. Go back and try again.")),
    403: (_l("Access refused"), _l("You do not have permission to see this page.")),
    404: (_l("Page not found"), _l("Check the address, or go to your account.")),
    405: (_l("Action not allowed"), _l("This page cannot be used this way. Go back and try again.")),
    413: (_l("Too much information sent"), _l("What you sent is too large. Go back and send less.")),
    429: (_l("Too many attempts"), _l("Wait a few minutes, then try again.")),
    500: (_l("Something went wrong"), _l("We could not complete your request. Try again in a few minutes.")),
    503: (_l("Service busy"), _l("The service is busy right now. Wait a moment, then try again.")),
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


# Seconds a client is asked to wait after a 503 (RFC 9110 §10.2.3).
RETRY_AFTER_SECONDS = 5
# PostgreSQL's read_only_sql_transaction (a standby, or default_transaction_read_only):
# psycopg raises it as an InternalError, not an OperationalError.
READ_ONLY_SQLSTATE = "25006"


def is_connection_lost(error: SQLAlchemyError) -> bool:
    """The server went away under this request (a connection closed or invalidated, or a
    session that cannot reconnect until its dead transaction is rolled back), whatever class
    the driver gave it: the database is unavailable, not the request wrong."""
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    return isinstance(error, PendingRollbackError) and "reconnect" in str(error)


def handle_database_unavailable(error: SQLAlchemyError):
    """A database that is locked, read-only or unreachable: 503 "try again" with Retry-After,
    at once (DATABASE_LOCK_TIMEOUT_MS bounds the wait), after rolling the session back."""
    if not isinstance(error, (OperationalError, PoolTimeoutError, InternalError)) and not is_connection_lost(error):
        return handle_unexpected_error(InternalServerError(original_exception=error))
    if isinstance(error, InternalError) and getattr(error.orig, "sqlstate", None) != READ_ONLY_SQLSTATE:
        return handle_unexpected_error(InternalServerError(original_exception=error))
    current_app.logger.warning("database unavailable, answered 503: %s", getattr(error, "orig", None) or error)
    try:
        db.session.rollback()
    except SQLAlchemyError:
        remove_session()
    return error_response(503, ServiceUnavailable(retry_after=RETRY_AFTER_SECONDS))


def remove_session(_error: BaseException | None = None) -> None:
    """End the request's database session even if the server died under it: closing rolls
    back on the connection, which raises when the connection is gone. The failed close has
    already invalidated that connection, so a second close succeeds and the next request
    gets a fresh one; nothing escapes into the WSGI call, where it would be a 500 for an
    answer already made."""
    try:
        db.session.remove()
    except SQLAlchemyError as error:
        current_app.logger.warning("database connection lost while closing the session: %s",
                                   getattr(error, "orig", None) or error)
        try:
            db.session.remove()
        except SQLAlchemyError:
            pass  # the registry is cleared below whatever the connection says
        db.session.registry.clear()


def init_app(app: Flask) -> None:
    """After db.init_app: Flask-SQLAlchemy's teardown (session.remove) gives way to
    remove_session, which a lost connection cannot turn into a 500."""
    teardowns = app.teardown_appcontext_funcs
    teardowns[:] = [remove_session if getattr(f, "__func__", None) is type(db)._teardown_session else f
                    for f in teardowns]
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
    for unavailable in (OperationalError, PoolTimeoutError, InternalError, DBAPIError, PendingRollbackError):
        app.register_error_handler(unavailable, handle_database_unavailable)
