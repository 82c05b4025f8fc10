"""Helpers for the institution portal's tests: the portal built against a Passerelle issuer,
people who can reach two-factor (an authenticator app), and a browser-like walk through
Passerelle's sign-in for the integration tier."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyotp
import requests

from clients.institution_portal import create_app
from clients.institution_portal.db import db as portal_db
from tests.oidc_support import PASSWORD, csrf_token, make_client
from tests.signin_support import (
    CODE_PATH,
    TERMS_PATH,
    signin_codes_sent,
    wait_for_signin_code,
)

PORTAL_ORIGIN = "http://127.0.0.1:5003"
PORTAL_SCOPE = "openid profile email organization"
SECRET_KEY = "insecure-test-portal-key-0123456789abcdef"


def register_portal(idp_app, origin: str = PORTAL_ORIGIN, **options):
    """The portal's client registration at Passerelle, as an operator makes it."""
    options.setdefault("scope", PORTAL_SCOPE)
    return make_client(idp_app, name="Portail pour les EED", redirect_uris=[f"{origin}/callback"],
                       post_logout_redirect_uris=[f"{origin}/signed-out"], **options)


def build_portal(issuer: str, registration, database_path, origin: str = PORTAL_ORIGIN, **overrides):
    """The portal app on a fresh SQLite file, its tables made from the models."""
    settings = {
        "PORTAL_ENV": "development",
        "PORTAL_ISSUER": issuer,
        "PORTAL_CLIENT_ID": registration.client_id,
        "PORTAL_CLIENT_SECRET": registration.client_secret,
        "PORTAL_BASE_URL": origin,
        "PORTAL_SECRET_KEY": SECRET_KEY,
        "PORTAL_DATABASE_URL": f"sqlite:///{database_path}",
        **overrides,
    }
    app = create_app(settings, environ={})
    with app.app_context():
        portal_db.create_all()
    return app


def add_authenticator_app(idp_app, user_id: int, clock) -> str:
    """The person sets up an authenticator app at Passerelle; returns its key."""
    from tests.integration.mfa.test_step_up import add_app

    return add_app(idp_app, user_id, clock)


def without_acr_values(url: str) -> str:
    """The authorization request with acr_values removed: what a tampered browser would send."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "acr_values"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def follow_passerelle(browser: requests.Session, url: str, email: str, clock, app_secret: str | None = None,
                      origin: str = PORTAL_ORIGIN) -> str:
    """Act as the browser at Passerelle: sign in when asked (password, the app's code or the
    emailed code, Passerelle's terms); return the URL it sends the browser back to."""
    response = browser.get(url, allow_redirects=False, timeout=30)
    codes_before = signin_codes_sent(email)
    for _ in range(16):
        location = response.headers.get("Location")
        if location and location.startswith(origin):
            return location
        path = urlsplit(response.url).path
        if response.status_code in (302, 303):
            response = browser.get(requests.compat.urljoin(response.url, location), allow_redirects=False, timeout=30)
        elif 'name="password"' in response.text:
            codes_before = signin_codes_sent(email)
            response = browser.post(response.url, data={"email": email, "password": PASSWORD,
                                                        "csrf_token": csrf_token(response.text)}, allow_redirects=False, timeout=30)
        elif path == "/signin/app":
            response = browser.post(response.url, data={"code": pyotp.TOTP(app_secret).at(clock()),
                                                        "csrf_token": csrf_token(response.text)}, allow_redirects=False, timeout=30)
        elif path == CODE_PATH:
            code = wait_for_signin_code(email, codes_before)
            response = browser.post(response.url, data={"code": code, "csrf_token": csrf_token(response.text)},
                                    allow_redirects=False, timeout=30)
        elif path == TERMS_PATH:
            response = browser.post(response.url, data={"decision": "accept", "csrf_token": csrf_token(response.text)},
                                    allow_redirects=False, timeout=30)
        else:
            raise AssertionError(f"stuck at {response.url}: {response.status_code}")
    raise AssertionError("redirect loop")


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
