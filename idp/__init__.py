"""Passerelle, an OpenID Connect identity provider.

`granian idp:create_app` (config/granian.env) or gunicorn serves it; `idp` is the operators'
command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from idp import config as config_module
from idp import settings_checks
from idp.clock import Clock, system_clock
from idp.config import PROJECT_ROOT, Settings
from idp.db import engine_options


def create_app(overrides: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    """Assemble the app: configuration, extensions, blueprints. Nothing else happens here."""
    values = config_module.load(overrides)
    settings_checks.validate(values)
    settings = Settings(values)

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(values)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "translations")

    from idp import context, extensions, i18n, models  # noqa: F401  (registers every table)
    from idp.mail import delivery as mail_delivery
    from idp.web import branding, errors, headers, input_guard

    context.install(app, settings, clock or system_clock)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        settings.SQLALCHEMY_DATABASE_URI, settings.SQLALCHEMY_ENGINE_OPTIONS, settings.DATABASE_LOCK_TIMEOUT_MS
    )
    extensions.db.init_app(app)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    extensions.babel.init_app(app, locale_selector=i18n.select_locale)
    headers.init_app(app)
    branding.init_app(app)
    input_guard.init_app(app)
    errors.init_app(app)
    mail_delivery.init_app(app)
    if settings.PROXY_FIX_X_FOR:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.PROXY_FIX_X_FOR)  # type: ignore[method-assign]

    from idp.accounts import views as accounts_views
    from idp.oidc import views as oidc_views
    from idp.signin import views as signin_views

    oidc_views.init_app(app)
    app.register_blueprint(signin_views.bp)
    from idp.mfa import manage_views as _mfa_manage_views  # noqa: F401  (its routes join mfa's blueprint)
    from idp.mfa import security_key_views as _mfa_security_key_views  # noqa: F401  (likewise)
    from idp.mfa import setup_views as _mfa_setup_views  # noqa: F401  (its routes join mfa's blueprint)
    from idp.mfa import views as mfa_views
    from idp.terms import views as terms_views

    app.register_blueprint(mfa_views.bp)
    app.register_blueprint(terms_views.bp)
    app.register_blueprint(accounts_views.bp)
    from idp.registration import views as registration_views

    if settings.REGISTRATION_ENABLED:
        app.register_blueprint(registration_views.bp)
    from idp.recovery import views as recovery_views

    app.register_blueprint(recovery_views.bp)
    from idp.invitations import api as invitations_api
    from idp.invitations import emails as invitation_emails

    app.register_blueprint(invitations_api.bp)
    invitation_emails.init_app(app)
    from idp.accounts import password_text
    from idp.robot import views as robot_views

    password_text.init_app(app)
    app.register_blueprint(robot_views.bp)
    from idp.federation import views as federation_views

    federation_views.init_app(app)
    return app
