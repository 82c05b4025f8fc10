"""A tiny, real relying party for trying Passerelle: `python -m clients.demo_rp`.

It uses Authlib's Flask OAuth client exactly as an outside application would: discovery,
authorization code with PKCE (S256) and a nonce, ID token validation, userinfo, refresh,
revocation, RP-initiated logout and back-channel logout (POST /backchannel-logout). `make run` starts it on http://127.0.0.1:5001 and the
OIDC integration tests drive it against a live IdP.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_client import OAuth
from flask import Flask
from flask_babel import Babel
from flask_wtf import CSRFProtect

from clients.demo_rp import views
from clients.demo_rp.logouts import EndedSessions, database_engine

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCOPE = "openid profile email phone address offline_access"
# The IdP and this RP both live on 127.0.0.1 in development, and cookies ignore ports:
# a cookie name of its own keeps the two sessions apart.
SESSION_COOKIE_NAME = "demo_rp_session"


def create_app(
    issuer: str,
    client_id: str,
    client_secret: str | None,
    redirect_uri: str,
    *,
    post_logout_redirect_uri: str | None = None,
    scope: str = DEFAULT_SCOPE,
    secret_key: str | None = None,
    database_url: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> Flask:
    """Build the relying party for one client registration at one issuer.

    post_logout_redirect_uri defaults to the origin of redirect_uri plus "/" (the home page),
    which is what `idp demo` registers. secret_key signs this app's own session cookie; a
    random one is used when not given (sessions then end when the process stops).
    database_url (DEMO_RP_DATABASE_URL) is the database the back-channel logouts are kept
    in, its tables created here; every worker of one relying party names the same one.
    Without it the app keeps them in a private in-memory database (one process: tests).
    """
    parts = urlsplit(redirect_uri)
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"), static_folder="static")
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_urlsafe(32),
        SESSION_COOKIE_NAME=SESSION_COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # the IdP's redirect back is a top-level GET
        SESSION_COOKIE_SECURE=parts.scheme == "https",
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "translations"),
        BABEL_DEFAULT_LOCALE="fr",
        DEMO_RP_ISSUER=issuer,
        DEMO_RP_CLIENT_ID=client_id,
        DEMO_RP_REDIRECT_URI=redirect_uri,
        DEMO_RP_POST_LOGOUT_REDIRECT_URI=post_logout_redirect_uri or f"{parts.scheme}://{parts.netloc}/",
        DEMO_RP_DATABASE_URL=database_url,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config or {})
    # Claims are shown as JSON: "Zoé", not "Zo\u00e9" (tojson still escapes <, >, & and ').
    app.json.ensure_ascii = False

    Babel(app, locale_selector=views.select_locale)
    CSRFProtect(app).exempt(views.backchannel_logout)  # server to server: the token is the proof
    app.extensions["demo_rp_ended_sessions"] = EndedSessions(database_engine(app.config["DEMO_RP_DATABASE_URL"]))
    oauth = OAuth(app)
    oauth.register(
        "passerelle",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": scope, "code_challenge_method": "S256"},
    )
    app.register_blueprint(views.bp)
    app.before_request(views.forget_ended_sign_in)
    app.after_request(views.security_headers)
    return app
