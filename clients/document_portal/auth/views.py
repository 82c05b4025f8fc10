"""Sign-in (one for learners and staff: /login, /callback), sign-out and the signed-out page.

Staff of an issuing organization must reach two-factor: a first sign-in below it is sent
back to Passerelle once with acr_values (step-up); a second answer below it is refused.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l

from clients.document_portal.auth.forms import SignoutForm
from clients.document_portal.auth.models import PortalSession, SeenLogoutToken
from clients.document_portal.auth.services import bind_documents
from clients.document_portal.claims import check_identity
from clients.document_portal.db import db
from clients.document_portal.errors import (
    BadState,
    InvitationsApiError,
    ProviderError,
    ProviderUnavailable,
    SigninError,
    StaffNeedsTwoFactor,
)
from clients.document_portal.web import (
    SESSION_TOKEN_KEY,
    current_portal_session,
    locale,
    page,
    portal,
    session_service,
)
from clients.portal_kit.backchannel_view import (
    backchannel_logout_response,
    exempt_from_csrf,
)
from clients.portal_kit.messages import (
    PROVIDER_FALLBACK,
    SIGNED_OUT_MISMATCH,
    SIGNIN_MESSAGES,
)
from clients.portal_kit.messages import PROVIDER_MESSAGES as KIT_PROVIDER_MESSAGES
from clients.portal_kit.web import restart_session

bp = Blueprint("auth", __name__)
exempt_from_csrf(bp, "clients.document_portal.auth.views.backchannel_logout")

STEP_UP_KEY = "step_up"
MESSAGES = SIGNIN_MESSAGES
PROVIDER_MESSAGES = {
    **KIT_PROVIDER_MESSAGES,
    "unmet_authentication_requirements": _l("Staff of a school must sign in with two-factor authentication, and "
                                            "your Passerelle account has no method that provides it yet."),
}


@bp.get("/login")
def login():
    """Start a sign-in at Passerelle at once (learners and staff alike)."""
    if current_portal_session() is not None:
        return redirect(url_for("home.index"))
    session.pop(STEP_UP_KEY, None)
    return start()


def start(**extra: str):
    try:
        response = portal().passerelle.start(locale=locale(), **extra)
    except ProviderUnavailable:
        return refused(ProviderUnavailable())
    db.session.commit()  # the state store's row
    return response


@bp.get("/callback")
def callback():
    passerelle = portal().passerelle
    try:
        claims, id_token = passerelle.finish(request.args)
        identity = check_identity(claims, portal().settings.DOCUMENT_PORTAL_REQUIRED_ACR, passerelle.acr_order())
    except StaffNeedsTwoFactor as error:
        db.session.commit()
        if session.pop(STEP_UP_KEY, False):
            current_app.logger.info("sign-in refused: %r", error)
            return refused(error)
        session[STEP_UP_KEY] = True  # once: a second answer below two-factor is refused
        return start(acr_values=portal().settings.DOCUMENT_PORTAL_REQUIRED_ACR)
    except SigninError as error:
        db.session.commit()  # a used state stays used
        current_app.logger.info("sign-in refused: %r", error)
        return refused(error)
    restart_session()  # a new session for a new person (no fixation)
    session[SESSION_TOKEN_KEY] = session_service().open(identity, id_token)
    bind(identity.sub)
    db.session.commit()
    return redirect(url_for("home.index"))


def bind(sub: str) -> None:
    """The documents Passerelle's invitations carry to this person become theirs. Passerelle
    out of reach does not stop the sign-in: they bind at the next one."""
    try:
        invitation_ids = portal().invitations.bound_to(sub)
    except InvitationsApiError as error:
        current_app.logger.warning("invitations not read at sign-in: %r", error)
        return
    bind_documents(db.session, sub, invitation_ids, portal().clock())


def refused(error: SigninError):
    if isinstance(error, StaffNeedsTwoFactor):
        return page("refused_two_factor.html", 403)
    if isinstance(error, ProviderError):
        message = PROVIDER_MESSAGES.get(error.code, PROVIDER_FALLBACK)
        return page("refused.html", 400, message=message, code=error.code)
    return page("refused.html", 503 if isinstance(error, ProviderUnavailable) else 400, message=MESSAGES[type(error)])


@bp.post("/logout")
def logout():
    if not SignoutForm().validate_on_submit():
        return page("refused.html", 400, message=MESSAGES[BadState])
    id_token = session_service().close(session.get(SESSION_TOKEN_KEY))
    restart_session()
    try:
        response = portal().passerelle.sign_out(id_token, locale(), url_for("auth.signed_out"))
    except ProviderUnavailable:
        db.session.commit()
        return refused(ProviderUnavailable())
    db.session.commit()
    return response


@bp.get("/signed-out")
def signed_out():
    if request.args.get("state") and not portal().passerelle.is_our_logout_response():
        db.session.commit()
        return page("refused.html", 400, message=SIGNED_OUT_MISMATCH)
    db.session.commit()
    return page("signed_out.html")


@bp.post("/backchannel-logout")
def backchannel_logout():
    """Back-Channel Logout 1.0 (issue 14): Passerelle says a session ended; the portal
    sessions it names end too (portal_kit.backchannel verifies everything)."""
    settings = portal().settings
    return backchannel_logout_response(
        issuer=settings.DOCUMENT_PORTAL_ISSUER, client_id=settings.DOCUMENT_PORTAL_CLIENT_ID,
        signin_client=portal().passerelle.client, clock=portal().clock, session=db.session,
        seen_model=SeenLogoutToken, session_model=PortalSession)
