"""What every portal's views share: the language of the page, a safe local redirect target,
and the security headers of every response."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, g, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.middleware.proxy_fix import ProxyFix

LOCALES = ("fr", "en")
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The stylesheet both portals share (clients/portal_kit/static/portal_kit.css, which
# templates/clients/portal_kit/base.html links before the portal's own): each portal
# registers this blueprint, and serves it at /static/portal_kit/.
kit = Blueprint("portal_kit", __name__, static_folder="static", static_url_path="/static/portal_kit")


def configure(app: Flask, *, secret_key: str, database_url: str, cookie_name: str, development: bool,
              session_max_age: int, max_content_length: int, overrides: dict[str, Any], prefix: str,
              proxies: int = 0) -> None:
    """A portal's Flask settings: its own cookie (HttpOnly, SameSite=Lax because Passerelle's
    redirect back is a top-level GET, Secure outside development), the shared catalog, CSRF
    tokens without a time limit, the largest body it reads; then the test overrides that are
    not the portal's own settings (those went through its validation)."""
    app.config.update(
        SECRET_KEY=secret_key,
        SQLALCHEMY_DATABASE_URI=database_url,
        SESSION_COOKIE_NAME=cookie_name,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not development,
        PERMANENT_SESSION_LIFETIME=session_max_age,
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "translations"),
        BABEL_DEFAULT_LOCALE="fr",
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=max_content_length,
    )
    app.config.update({key: value for key, value in overrides.items() if not key.startswith(prefix)})
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    if proxies:
        # Behind that many proxies, the client's address (what per-address limits count) and
        # the scheme come from their X-Forwarded-For and -Proto; never without them, or anyone
        # could choose their address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]


def restart_session() -> None:
    """A new cookie session for a new person (no fixation), keeping only the language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def switch_language(code: str):
    """The language toggle: remember the choice, back to the same page (never off-site)."""
    if code in LOCALES:
        session["lang"] = code
    target = request.args.get("next", "/")
    return redirect(target if is_local_path(target) else "/")


def login_required(current_session: Callable[[], Any], login_endpoint: str = "auth.login"):
    """A view decorator: a person who is not signed in goes to the sign-in page."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_session() is None:
                return redirect(url_for(login_endpoint))
            return view(*args, **kwargs)

        return wrapped

    return decorator


def select_locale() -> str:
    """The language the person chose on the portal (session "lang"), else the browser's."""
    chosen = session.get("lang")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "fr"


def is_local_path(target: str) -> bool:
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


def apply_security_headers(response, *, form_action_origin: str, https: bool):
    """No framing, no inline script or style, nothing cached, no referrer (callback URLs
    carry codes). Forms may lead to Passerelle: Chromium applies form-action to the
    redirects after a POST, so its origin is allowed there. A view that needs another
    policy (a PDF shown inline) sets its own headers first: these are only defaults."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        f"form-action 'self' {form_action_origin}; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.headers.setdefault("Cache-Control", "no-store")
    if https:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (a Content-Security-Policy source)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"


def register_error_pages(app: Flask, page: Callable[..., Any], rollback: Callable[[], None],
                         kinds: dict[Any, str]) -> None:
    """Every error is a translated page with the portal's layout (its error.html, told the
    kind), never a bare 500; a CSRF failure is a 400. kinds maps a status or an exception
    class to the kind."""
    from flask_wtf.csrf import CSRFError

    for error, kind in kinds.items():
        status = 400 if error is CSRFError else error
        app.register_error_handler(error, lambda _error, kind=kind, status=status: page("error.html", status, kind=kind))

    @app.errorhandler(500)
    def server_error(error):
        _quietly(rollback)
        return page("error.html", 500, kind="server")

    def database_unavailable(error):
        """The database went away or is busy: "try again" (503, Retry-After), rendered
        without asking the database who is signed in."""
        _quietly(rollback)
        g.setdefault("portal_session", None)
        response = make_response(page("error.html", 503, kind="server"))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    for unavailable in (OperationalError, PoolTimeoutError):
        app.register_error_handler(unavailable, database_unavailable)
    database = app.extensions["sqlalchemy"]
    app.teardown_appcontext_funcs[:] = [
        (lambda _error: _remove_session(database)) if getattr(f, "__self__", None) is database else f
        for f in app.teardown_appcontext_funcs]


# Seconds a person's browser is asked to wait after a 503 (RFC 9110 §10.2.3).
RETRY_AFTER_SECONDS = 5


def _quietly(rollback: Callable[[], None]) -> None:
    """Roll back what a failed request left, even if the connection is gone."""
    try:
        rollback()
    except SQLAlchemyError:
        pass  # the failed rollback invalidated the connection; the teardown ends the session


def _remove_session(database) -> None:
    """End the request's session even when the connection died under it (closing rolls back
    on it): a second close succeeds on the invalidated connection, and nothing escapes into
    the WSGI call, where it would turn an answer already made into a bare 500."""
    try:
        database.session.remove()
    except SQLAlchemyError:
        try:
            database.session.remove()
        except SQLAlchemyError:
            pass
        database.session.registry.clear()


def locale() -> str:
    """The page's language (select_locale's choice, through Flask-Babel)."""
    return str(get_locale())


def render_page(template: str, status: int, *, help_url: str, issuer: str, signed_in: bool, **context: Any):
    """A portal page with what every layout needs: the language and its toggle (back to this
    page), the help link, Passerelle's account and logout pages, whether someone is signed in."""
    current = locale()
    other = "en" if current == "fr" else "fr"
    return render_template(
        template,
        locale=current,
        other_locale=other,
        language_toggle_url=url_for("home.language", code=other, next=request.full_path.rstrip("?")),
        help_url=help_url,
        passerelle_account_url=f"{issuer}/account",
        passerelle_logout_url=f"{issuer}/logout",
        signed_in=signed_in,
        **context,
    ), status


def cached_session(find: Callable[[], Any]):
    """The signed-in person's portal session (find() looks it up), cached for the request."""
    if "portal_session" not in g:
        g.portal_session = find()
    return g.portal_session
