"""What every view shares: the language, rendering a page, the signed-in person, and the
security headers of every response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g, render_template, request, session, url_for
from flask_babel import get_locale

from clients.institution_portal.auth.services import SessionService
from clients.institution_portal.config import Settings
from clients.institution_portal.db import db
from clients.institution_portal.passerelle import Passerelle
from clients.portal_kit.web import (
    LOCALES,
    apply_security_headers,
    is_local_path,
    login_required,
    select_locale,
)

__all__ = ["LOCALES", "is_local_path", "select_locale"]

SESSION_TOKEN_KEY = "portal_session"


@dataclass
class Portal:
    """The app's collaborators, built once by create_app."""

    settings: Settings
    clock: Any
    passerelle: Passerelle


def portal() -> Portal:
    return current_app.extensions["institution_portal"]


def locale() -> str:
    return str(get_locale())


def page(template: str, status: int = 200, **context: Any):
    current = locale()
    other = "en" if current == "fr" else "fr"
    return render_template(
        f"clients/institution_portal/{template}",
        locale=current,
        other_locale=other,
        language_toggle_url=url_for("home.language", code=other, next=request.full_path.rstrip("?")),
        help_url=portal().settings.PORTAL_HELP_URL or url_for("home.help"),
        passerelle_account_url=f"{portal().settings.PORTAL_ISSUER}/account",
        passerelle_logout_url=f"{portal().settings.PORTAL_ISSUER}/logout",
        signed_in=current_portal_session() is not None,
        **context,
    ), status


def session_service() -> SessionService:
    return SessionService(db.session, portal().settings, portal().clock)


def current_portal_session():
    """The signed-in person's portal session, or None (cached for the request)."""
    if "portal_session" not in g:
        g.portal_session = session_service().find(session.get(SESSION_TOKEN_KEY))
    return g.portal_session


def signin_required(view):
    """Send a person who is not signed in to the sign-in page."""
    return login_required(current_portal_session)(view)


def security_headers(response):
    """The kit's headers (portal_kit.web), forms allowed to lead to Passerelle."""
    return apply_security_headers(response, form_action_origin=portal().passerelle.issuer_origin(),
                                  https=portal().settings.PORTAL_BASE_URL.startswith("https://"))
