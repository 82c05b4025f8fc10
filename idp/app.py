"""Assembling the app: configuration, extensions, request hooks, then every feature's pages
in one list (FEATURE_BLUEPRINTS). Nothing else happens here.

idp/__init__.py imports this module only when an app is built, so that importing any idp
module (a service, the CLI) does not import every view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from idp import config as config_module
from idp import context, extensions, i18n, settings_checks
from idp import models  # noqa: F401  (registers every table)
from idp.accounts import password_text
from idp.accounts import session_views  # noqa: F401  (its routes join accounts' blueprint)
from idp.accounts import views as accounts_views
from idp.clock import Clock, system_clock
from idp.console import client_views  # noqa: F401  (its routes join the console's blueprint)
from idp.console import org_views  # noqa: F401  (its routes join the console's blueprint)
from idp.console import token_views  # noqa: F401  (initial access tokens: the console's blueprint too)
from idp.console import ops_views  # noqa: F401  (keys, mail, audit: the console's blueprint too)
from idp.console import views as console_views
from idp.config import PROJECT_ROOT, Settings
from idp.db import engine_options
from idp.federation import views as federation_views
from idp.invitations import api as invitations_api
from idp.invitations import emails as invitation_emails
from idp.invitations import views as invitations_views
from idp.mail import delivery as mail_delivery
from idp.mfa import manage_views, security_key_views, setup_views  # noqa: F401  (their routes join mfa's blueprint)
from idp.mfa import views as mfa_views
from idp.oidc import views as oidc_views
from idp.ops import hooks as ops_hooks
from idp.ops import views as ops_views
from idp.orgs import api as orgs_api
from idp.orgs import views as orgs_views
from idp.recovery import views as recovery_views
from idp.registration import views as registration_views
from idp.robot import views as robot_views
from idp.signin import views as signin_views
from idp.terms import views as terms_views
from idp.web import branding, errors, headers, input_guard

# The pages of every feature, in registration order. The OpenID Connect endpoints
# (oidc_views.init_app) and the sign-in partners (federation_views.init_app, which reads the
# partners file) register themselves; registration is left out when REGISTRATION_ENABLED is
# false (a demo bank has none).
FEATURE_BLUEPRINTS: tuple[Blueprint, ...] = (
    signin_views.bp,
    mfa_views.bp,
    terms_views.bp,
    accounts_views.bp,
    registration_views.bp,
    recovery_views.bp,
    invitations_api.bp,
    invitations_views.bp,
    robot_views.bp,
    orgs_views.bp,
    orgs_api.bp,
    console_views.bp,
)


def create_app(overrides: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    """The Passerelle app: settings from idp.config's load order, checked before anything."""
    values = config_module.load(overrides)
    settings_checks.validate(values)
    settings = Settings(values)

    app = Flask("idp", template_folder=str(PROJECT_ROOT / "templates"), static_folder="static")
    app.config.update(values)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "translations")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        settings.SQLALCHEMY_DATABASE_URI, settings.SQLALCHEMY_ENGINE_OPTIONS, settings.DATABASE_LOCK_TIMEOUT_MS
    )

    context.install(app, settings, clock or system_clock)
    extensions.db.init_app(app)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    extensions.babel.init_app(app, locale_selector=i18n.select_locale)
    for module in (headers, branding, input_guard, errors, mail_delivery, invitation_emails, password_text):
        module.init_app(app)
    ops_hooks.init_app(app)  # after input_guard: its request-id hook runs first of all
    oidc_views.init_app(app)  # its machine endpoints answer before Flask (idp.web.machine)
    app.register_blueprint(ops_views.bp)  # /health/live, /health/ready, /metrics
    for blueprint in FEATURE_BLUEPRINTS:
        if blueprint is registration_views.bp and not settings.REGISTRATION_ENABLED:
            continue
        app.register_blueprint(blueprint)
    federation_views.init_app(app)
    if settings.PROXY_FIX_X_FOR:
        # Outermost: the token endpoint answered before Flask counts failures per client address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.PROXY_FIX_X_FOR)  # type: ignore[method-assign]
    return app
