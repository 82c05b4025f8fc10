"""The IdP's cookies: names and flags in one place (SES-01, ASVS 3.3.1-3.3.4).

Over https every cookie name gets the `__Host-` prefix, which the browser accepts only with
Secure, Path=/ and no Domain, so no sibling host can plant or overwrite it.
"""

from __future__ import annotations

from flask import Flask, Response, current_app
from flask.sessions import SecureCookieSessionInterface

SIGNIN_COOKIE = "passerelle_signin"
# Flask's own signed cookie carries only the CSRF token. It must not share a name with the
# IdP session cookie (settings SESSION_COOKIE_NAME), which Flask would otherwise also use.
CSRF_COOKIE = "passerelle_csrf"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


def is_secure() -> bool:
    return bool(current_app.config["SESSION_COOKIE_SECURE"])


def host_prefixed(name: str, secure: bool) -> str:
    return f"__Host-{name}" if secure and not name.startswith("__Host-") else name


def session_cookie_name() -> str:
    return host_prefixed(current_app.config["SESSION_COOKIE_NAME"], is_secure())


def signin_cookie_name() -> str:
    return host_prefixed(SIGNIN_COOKIE, is_secure())


def set_private_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    """A cookie scripts cannot read, sent on top-level navigations from other sites (Lax) so a
    relying party's redirect to /authorize still carries it."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=is_secure(),
        httponly=True,
        samesite=current_app.config["SESSION_COOKIE_SAMESITE"],
    )


def delete_private_cookie(response: Response, name: str) -> None:
    response.delete_cookie(
        name,
        path="/",
        secure=is_secure(),
        httponly=True,
        samesite=current_app.config["SESSION_COOKIE_SAMESITE"],
    )


def set_language_cookie(response: Response, locale: str) -> None:
    # Named exactly as idp.i18n.select_locale reads it, hence no __Host- prefix here.
    set_private_cookie(response, current_app.config["LANGUAGE_COOKIE_NAME"], locale, LANGUAGE_COOKIE_MAX_AGE)


class CsrfSessionInterface(SecureCookieSessionInterface):
    """Flask's signed session, renamed so it cannot collide with the IdP session cookie."""

    def get_cookie_name(self, app: Flask) -> str:
        return host_prefixed(CSRF_COOKIE, bool(app.config["SESSION_COOKIE_SECURE"]))

    def get_signing_serializer(self, app: Flask):
        """Build the serializer once per secret: Flask makes a new one on every request."""
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = getattr(self, "_serializer", None)
        if cached is None or cached[0] != key:
            cached = (key, super().get_signing_serializer(app))
            self._serializer = cached
        return cached[1]


def init_app(app: Flask) -> None:
    app.session_interface = CsrfSessionInterface()
