"""Sign-in (the choice page, the start, the callback), sign-out and the signed-out page."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, session, url_for

from clients.institution_portal.auth.forms import SigninChoiceForm, SignoutForm
from clients.institution_portal.auth.models import SeenLogoutToken
from clients.institution_portal.auth.web import MESSAGES, refused, sign_out
from clients.institution_portal.db import db
from clients.institution_portal.errors import BadState, ProviderUnavailable, SigninError
from clients.institution_portal.models import PortalSession
from clients.institution_portal.terms.services import TermsService
from clients.institution_portal.web import (
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
from clients.portal_kit.messages import SIGNED_OUT_MISMATCH
from clients.portal_kit.web import restart_session

bp = Blueprint("auth", __name__)
exempt_from_csrf(bp, "clients.institution_portal.auth.views.backchannel_logout")


@bp.get("/login")
def login():
    if current_portal_session() is not None:
        return redirect(url_for("home.index"))
    return page("login.html", form=SigninChoiceForm())


@bp.post("/login")
def start():
    form = SigninChoiceForm()
    if not form.validate_on_submit():
        return page("login.html", 400, form=form)
    try:
        response = portal().passerelle.start(partner=form.via.data == "partner", locale=locale())
    except ProviderUnavailable:
        return refused(ProviderUnavailable())
    db.session.commit()  # the state store's row
    return response


@bp.get("/callback")
def callback():
    try:
        identity, id_token = portal().passerelle.finish(request.args)
    except SigninError as error:
        db.session.commit()  # a used state stays used
        current_app.logger.info("sign-in refused: %r", error)
        return refused(error)
    restart_session()  # a new session for a new person (no fixation)
    session[SESSION_TOKEN_KEY] = session_service().open(identity, id_token)
    terms = TermsService(db.session, portal().settings, portal().clock)
    db.session.commit()
    return redirect(url_for("home.index" if terms.has_accepted(identity.sub) else "terms.show"))


@bp.post("/logout")
def logout():
    if not SignoutForm().validate_on_submit():
        return page("refused.html", 400, message=MESSAGES[BadState])
    return sign_out()


@bp.get("/signed-out")
def signed_out():
    if request.args.get("state") and not portal().passerelle.is_our_logout_response():
        db.session.commit()
        return page("refused.html", 400, message=SIGNED_OUT_MISMATCH)
    db.session.commit()
    return page("signed_out.html", declined=session.pop("declined_terms", False))


@bp.post("/backchannel-logout")
def backchannel_logout():
    """Back-Channel Logout 1.0 (issue 14): Passerelle says a session ended; the portal
    sessions it names end too (portal_kit.backchannel verifies everything)."""
    settings = portal().settings
    return backchannel_logout_response(
        issuer=settings.PORTAL_ISSUER, client_id=settings.PORTAL_CLIENT_ID,
        signin_client=portal().passerelle.client, clock=portal().clock, session=db.session,
        seen_model=SeenLogoutToken, session_model=PortalSession)
