"""The "new document" email's link (issue 13): /invitations/open/<token>. It asks the person
to sign in, accepts the invitation when the account signed in is the one it is bound to,
then goes on to the relying party's return URL. The link signs nobody in by itself.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from idp.audit import EventTag, record_event
from idp.context import app_context
from idp.extensions import db, limiter
from idp.invitations.binding import Bindings
from idp.invitations.errors import InvitationError
from idp.invitations.services import InvitationService
from idp.registration.web import problem
from idp.signin.current import begin_local_signin, current_session

bp = Blueprint("invitations", __name__)


def get_bindings() -> Bindings:
    ctx = app_context()
    return Bindings(InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher))


def _rate_limit() -> str:
    return app_context().settings.REGISTRATION_RATE_LIMIT


@bp.route("/invitations/open/<token>")
@limiter.limit(_rate_limit)
def open_document(token: str):
    service = get_bindings()
    try:
        invitation = service.find_document_link(token)
    except InvitationError as error:
        return problem(error)
    user_session = current_session()
    if user_session is None:
        return begin_local_signin(request.path)
    if service.open_document(invitation, user_session.user_id):
        record_event(db.session, app_context().clock, EventTag.INVITATION_ACCEPTED, user_id=user_session.user_id,
                     client_id=invitation.client_id, invitation=invitation.public_id)
    db.session.commit()
    # A page rather than a redirect: after the sign-in form's POST, Chromium would hold a
    # redirect off this site to the form's form-action 'self' (idp/web/headers.py).
    return render_template("invitations/continue.html", return_url=invitation.return_url)
