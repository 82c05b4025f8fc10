"""The registration blueprint and what its pages share: services, the browser's
registration cookie, rate limits, and the page that explains a link or step that no longer
works. The routes are in views.py (link journey) and code_views.py (code journey)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import get_locale
from sqlalchemy.exc import IntegrityError

from idp.context import app_context
from idp.extensions import db
from idp.invitations.errors import InvitationAlreadyUsed, InvitationExpired, InvitationNotFound, InvitationRevoked
from idp.invitations.services import InvitationService
from idp.mail.delivery import get_mail_service
from idp.registration.codes import CodeRegistrationService
from idp.registration.errors import (
    AccountAlreadyActive,
    ActivationLinkExpired,
    ActivationLinkInvalid,
    ActivationLinkUsed,
    InvitationNoLongerValid,
)
from idp.registration.links import LinkRegistrationService
from idp.web import cookies
from idp.web.headers import is_off_site, leave_site_policy

bp = Blueprint("registration", __name__)

# Names the registration this browser continues (a random handle; the row keeps its hash).
REGISTRATION_COOKIE = "passerelle_registration"

T = TypeVar("T")

# Which explanation page (templates/registration/problem.html) each refusal shows, and its status.
PROBLEMS: dict[type[Exception], tuple[str, int]] = {
    InvitationNotFound: ("invitation_not_found", 404),
    InvitationExpired: ("invitation_expired", 410),
    InvitationRevoked: ("invitation_revoked", 410),
    InvitationAlreadyUsed: ("invitation_used", 410),
    ActivationLinkInvalid: ("activation_invalid", 404),
    ActivationLinkExpired: ("activation_expired", 410),
    ActivationLinkUsed: ("activation_used", 410),
    AccountAlreadyActive: ("already_active", 410),
    InvitationNoLongerValid: ("invitation_no_longer_valid", 410),
}


def get_registration_service() -> LinkRegistrationService:
    """The service for this request; "can't sign in?" builds one the same way to resend activations."""
    ctx = app_context()
    return LinkRegistrationService(db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords, get_mail_service())


def get_code_registration_service() -> CodeRegistrationService:
    ctx = app_context()
    return CodeRegistrationService(db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords, get_mail_service())


def get_invitation_service() -> InvitationService:
    ctx = app_context()
    return InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher)


def registration_rate_limit() -> str:
    return current_app.config["REGISTRATION_RATE_LIMIT"]


def code_rate_limit() -> str:
    return current_app.config["REGISTRATION_CODE_RATE_LIMIT"]


def registration_cookie_name() -> str:
    return cookies.host_prefixed(REGISTRATION_COOKIE, cookies.is_secure())


def registration_handle() -> str | None:
    return request.cookies.get(registration_cookie_name())


def page_locale() -> str:
    return str(get_locale())


def problem(error: Exception, step: str | None = None) -> tuple[str, int]:
    """The page that says what happened and what to do next, with its status."""
    name, status = PROBLEMS.get(type(error), ("step_expired", 410))
    reason = getattr(error, "reason", None)
    return render_template("registration/problem.html", problem=name, step=step, reason=reason), status


def commit_with_retry(action: Callable[[], T]) -> T:
    """Run action and commit. If a concurrent form created the same account first (the
    unique address), run it once more: it then finds that account, pending or active."""
    try:
        result = action()
        db.session.commit()
        return result
    except IntegrityError:
        db.session.rollback()
    result = action()
    db.session.commit()
    return result


def add_error(field, message) -> None:
    if not isinstance(field.errors, list):
        field.errors = list(field.errors)
    field.errors.append(str(message))


def with_form_targets(response: Response, targets: list[str | None]) -> Response:
    """Let this page's form lead off this site when finishing may end at one of these targets
    (a relying party, which may redirect on): Chromium applies form-action to every redirect
    after the POST (idp.web.headers.content_security_policy)."""
    return leave_site_policy(response) if any(is_off_site(target) for target in targets) else response


