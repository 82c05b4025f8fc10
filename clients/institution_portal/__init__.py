"""The institution portal (issue 12, « Portail pour les EED »): a relying party of
Passerelle that a ministry runs on its own. It never imports `idp`: it knows Passerelle only
over HTTP (passerelle.py). `python -m clients.institution_portal run|db upgrade`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import Babel
from flask_wtf import CSRFProtect
from flask_wtf.csrf import CSRFError

from clients.institution_portal import config
from clients.institution_portal.db import db as database
from clients.institution_portal.db import utcnow
from clients.institution_portal.passerelle import Passerelle, StateStore, register
from clients.institution_portal.web import Portal, page, security_headers, select_locale
from clients.portal_kit.web import PROJECT_ROOT, configure, kit, register_error_pages


def create_app(overrides: dict[str, Any] | None = None, *, clock: Callable[[], datetime] = utcnow,
               environ: dict[str, str] | None = None) -> Flask:
    """Build the portal from its validated settings (config.py); raises ConfigError."""
    settings = config.validate(config.load(overrides, environ))
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"), static_folder="static")
    configure(app, secret_key=settings.PORTAL_SECRET_KEY, database_url=settings.PORTAL_DATABASE_URL,
              cookie_name=settings.PORTAL_SESSION_COOKIE_NAME, development=settings.is_development,
              session_max_age=settings.PORTAL_SESSION_MAX_AGE, max_content_length=64 * 1024,
              overrides=overrides or {}, prefix="PORTAL_", proxies=settings.PORTAL_PROXY_FIX_X_FOR)

    database.init_app(app)
    Babel(app, locale_selector=select_locale)
    from clients.institution_portal.reports.views import raise_upload_limit

    app.before_request(raise_upload_limit)  # before CSRFProtect reads the form
    CSRFProtect(app)
    oauth = register(app, settings, StateStore(lambda: database.session, clock))
    app.extensions["institution_portal"] = Portal(settings=settings, clock=clock, passerelle=Passerelle(oauth, settings))

    from clients.institution_portal.auth.views import bp as auth_bp
    from clients.institution_portal.home.views import bp as home_bp
    from clients.institution_portal.letters.views import bp as letters_bp
    from clients.institution_portal.reports.views import bp as reports_bp
    from clients.institution_portal.terms.views import bp as terms_bp
    from clients.institution_portal.users.views import bp as users_bp

    for blueprint in (kit, auth_bp, terms_bp, home_bp, users_bp, letters_bp, reports_bp):
        app.register_blueprint(blueprint)
    app.after_request(security_headers)
    _error_pages(app)
    return app


ERROR_KINDS = {404: "not_found", 405: "not_found", 413: "bad_request", CSRFError: "csrf"}


def _error_pages(app: Flask) -> None:
    """Every error is a translated page with the portal's layout, never a bare 500."""
    register_error_pages(app, page, database.session.rollback, ERROR_KINDS)
