"""What every view shares: the language, rendering a page, the signed-in person, and the
security headers of every response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, session, url_for

from clients.institution_portal.auth.services import SessionService
from clients.institution_portal.config import Settings
from clients.institution_portal.db import db
from clients.institution_portal.passerelle import Passerelle
from clients.portal_kit.web import (
    LOCALES,
    apply_security_headers,
    cached_session,
    is_local_path,
    locale,
    login_required,
    render_page,
    select_locale,
)

__all__ = ["LOCALES", "is_local_path", "locale", "select_locale"]

SESSION_TOKEN_KEY = "portal_session"


@dataclass
class Portal:
    """The app's collaborators, built once by create_app."""

    settings: Settings
    clock: Any
    passerelle: Passerelle


def portal() -> Portal:
    return current_app.extensions["institution_portal"]


def page(template: str, status: int = 200, **context: Any):
    settings = portal().settings
    return render_page(f"clients/institution_portal/{template}", status,
                       help_url=settings.PORTAL_HELP_URL or url_for("home.help"), issuer=settings.PORTAL_ISSUER,
                       signed_in=current_portal_session() is not None, **context)


def session_service() -> SessionService:
    return SessionService(db.session, portal().settings, portal().clock)


def current_portal_session():
    """The signed-in person's portal session, or None (cached for the request)."""
    return cached_session(lambda: session_service().find(session.get(SESSION_TOKEN_KEY)))


def signin_required(view):
    """Send a person who is not signed in to the sign-in page."""
    return login_required(current_portal_session)(view)


def security_headers(response):
    """The kit's headers (portal_kit.web), forms allowed to lead to Passerelle."""
    return apply_security_headers(response, form_action_origin=portal().passerelle.issuer_origin(),
                                  https=portal().settings.PORTAL_BASE_URL.startswith("https://"))
