"""What every view shares: the app's collaborators, the language, rendering a page, the
signed-in person (learner or staff), and the security headers of every response."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import (
    abort,
    current_app,
    redirect,
    session,
    url_for,
)

from clients.document_portal.auth.services import SessionService
from clients.document_portal.config import Settings
from clients.document_portal.db import db
from clients.document_portal.invitations_api import InvitationsApi
from clients.portal_kit.signin import SigninClient
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

SESSION_TOKEN_KEY = "document_portal_session"
EXTENSION = "document_portal"


@dataclass
class Portal:
    """The app's collaborators, built once by create_app."""

    settings: Settings
    clock: Any
    passerelle: SigninClient
    invitations: InvitationsApi
    signing: Any  # signing.SigningService (dp-signing), built by create_app


def portal() -> Portal:
    return current_app.extensions[EXTENSION]


def page(template: str, status: int = 200, **context: Any):
    settings = portal().settings
    person = current_portal_session()
    return render_page(f"clients/document_portal/{template}", status,
                       help_url=settings.DOCUMENT_PORTAL_HELP_URL or url_for("home.help"),
                       issuer=settings.DOCUMENT_PORTAL_ISSUER, signed_in=person is not None, person=person, **context)


def session_service() -> SessionService:
    return SessionService(db.session, portal().settings, portal().clock)


def current_portal_session():
    """The signed-in person's portal session, or None (cached for the request)."""
    return cached_session(lambda: session_service().find(session.get(SESSION_TOKEN_KEY)))


def signin_required(view):
    """Send a person who is not signed in to the sign-in page."""
    return login_required(current_portal_session)(view)


def staff_required(view):
    """Only staff of an issuing organization (signed in with two-factor); others get 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        person = current_portal_session()
        if person is None:
            return redirect(url_for("auth.login"))
        if not person.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def security_headers(response):
    """The kit's headers (portal_kit.web), forms allowed to lead to Passerelle."""
    return apply_security_headers(response, form_action_origin=portal().passerelle.issuer_origin(),
                                  https=portal().settings.DOCUMENT_PORTAL_BASE_URL.startswith("https://"))
