"""The document portal (issue 13, « MesCertif »): schools issue digitally signed documents
to learners, who view, verify and share them. A relying party of Passerelle that never
imports `idp`: it knows Passerelle only over HTTP (portal_kit.signin, invitations_api.py).
`python -m clients.document_portal run|db upgrade|demo`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import Babel
from flask_wtf import CSRFProtect
from flask_wtf.csrf import CSRFError

from clients.document_portal import config
from clients.document_portal.auth.models import SigninState
from clients.document_portal.db import db as database
from clients.document_portal.db import utcnow
from clients.document_portal.invitations_api import InvitationsApi
from clients.document_portal.signer import Signer
from clients.document_portal.signing.errors import SigningError
from clients.document_portal.signing.settings import parse_signing_settings
from clients.document_portal.web import (
    EXTENSION,
    Portal,
    page,
    security_headers,
    select_locale,
)
from clients.portal_kit.signin import SigninClient, register
from clients.portal_kit.state_store import StateStore
from clients.portal_kit.web import PROJECT_ROOT, configure, kit, register_error_pages

SCOPE = "openid profile email organization"


def create_app(overrides: dict[str, Any] | None = None, *, clock: Callable[[], datetime] = utcnow,
               environ: dict[str, str] | None = None) -> Flask:
    """Build the portal from its validated settings (config.py); raises ConfigError."""
    environ = os.environ if environ is None else environ
    values = config.load(overrides, environ)
    settings = config.validate(values)
    try:
        signer = Signer(parse_signing_settings(values), environ, clock)
    except (SigningError, OSError) as error:
        raise config.ConfigError(f"signing settings: {error}") from None
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"), static_folder="static")
    # A larger body than max_request_bytes is refused (413) before it is read.
    configure(app, secret_key=settings.DOCUMENT_PORTAL_SECRET_KEY, database_url=settings.DOCUMENT_PORTAL_DATABASE_URL,
              cookie_name=settings.DOCUMENT_PORTAL_SESSION_COOKIE_NAME, development=settings.is_development,
              session_max_age=settings.DOCUMENT_PORTAL_SESSION_MAX_AGE, max_content_length=settings.max_request_bytes,
              overrides=overrides or {}, prefix=config.PREFIX, proxies=settings.DOCUMENT_PORTAL_PROXY_FIX_X_FOR)

    database.init_app(app)
    Babel(app, locale_selector=select_locale)
    CSRFProtect(app)
    oauth = register(app, issuer=settings.DOCUMENT_PORTAL_ISSUER, client_id=settings.DOCUMENT_PORTAL_CLIENT_ID,
                     client_secret=settings.DOCUMENT_PORTAL_CLIENT_SECRET, scope=SCOPE,
                     cache=StateStore(lambda: database.session, clock, SigninState))
    passerelle = SigninClient(oauth, issuer=settings.DOCUMENT_PORTAL_ISSUER, redirect_uri=settings.redirect_uri,
                              post_logout_redirect_uri=settings.post_logout_redirect_uri)
    app.extensions[EXTENSION] = Portal(settings=settings, clock=clock, passerelle=passerelle,
                                       invitations=InvitationsApi(settings, passerelle.metadata), signing=signer)

    from clients.document_portal.auth.views import bp as auth_bp
    from clients.document_portal.home.views import bp as home_bp
    from clients.document_portal.issuing.views import bp as issuing_bp
    from clients.document_portal.learner.views import bp as learner_bp
    from clients.document_portal.shares.views import bp as shares_bp
    from clients.document_portal.verify.views import bp as verify_bp

    for blueprint in (kit, auth_bp, home_bp, issuing_bp, learner_bp, shares_bp, verify_bp):
        app.register_blueprint(blueprint)
    app.after_request(security_headers)
    _error_pages(app)
    return app


ERROR_KINDS = {403: "forbidden", 404: "not_found", 405: "not_found", 413: "too_large", CSRFError: "csrf"}


def _error_pages(app: Flask) -> None:
    """Every error is a translated page with the portal's layout, never a bare 500."""
    register_error_pages(app, page, database.session.rollback, ERROR_KINDS)
