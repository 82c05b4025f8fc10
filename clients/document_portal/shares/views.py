"""Shares: the learner makes, lists and revokes links (on the document's page); a third party
opens one without an account (/s/<token>). Every dead link, whatever the reason, is the same
404 page; failed lookups and wrong codes count against the client's address."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l

from clients.document_portal.db import db
from clients.document_portal.learner.errors import DocumentNotFound
from clients.document_portal.learner.responses import allow_viewer, pdf_response
from clients.document_portal.learner.web import document_page, own_document
from clients.document_portal.shares.errors import (
    DocumentWithdrawn,
    InvalidExpiry,
    ShareNotAvailable,
    ShareNotFound,
    TooManyAttempts,
    WrongAccessCode,
)
from clients.document_portal.shares.forms import AccessCodeForm, RevokeForm, ShareForm
from clients.document_portal.shares.services import AttemptLimiter, ShareService
from clients.document_portal.verify.web import get_verify_service
from clients.document_portal.web import (
    current_portal_session,
    locale,
    page,
    portal,
    signin_required,
)

bp = Blueprint("shares", __name__)

ERROR_MESSAGES = {
    DocumentWithdrawn: _l("This document was withdrawn by its school: it can no longer be shared."),
    InvalidExpiry: _l("Enter a number of days from 1 to 90."),
}
GRANTS_KEY = "share_grants"  # shares whose access code this browser gave (public ids)
MAX_GRANTS = 20


def get_share_service() -> ShareService:
    return ShareService(db.session, portal().settings.DOCUMENT_PORTAL_SECRET_KEY, portal().clock)


def get_attempt_limiter() -> AttemptLimiter:
    settings = portal().settings
    return AttemptLimiter(db.session, settings.DOCUMENT_PORTAL_SECRET_KEY, portal().clock,
                          settings.DOCUMENT_PORTAL_SHARE_ATTEMPTS_LIMIT,
                          timedelta(seconds=settings.DOCUMENT_PORTAL_SHARE_ATTEMPTS_WINDOW))


# The learner's side.


@bp.post("/documents/<public_id>/shares")
@signin_required
def create(public_id: str):
    form = ShareForm()
    document = own_document(public_id)
    if form.validate_on_submit():
        try:
            new = get_share_service().create(current_portal_session().sub, public_id, form.days.data,
                                             with_code=form.with_code.data)
        except DocumentNotFound:
            abort(404)
        except (DocumentWithdrawn, InvalidExpiry) as error:
            form.days.errors.append(ERROR_MESSAGES[type(error)])
        else:
            db.session.commit()
            link = f"{portal().settings.DOCUMENT_PORTAL_BASE_URL}{url_for('shares.open_share', token=new.plain_token)}"
            return page("shares/created.html", document=document, share=new.share, link=link, code=new.plain_code)
    return document_page(document, form, status=422)


@bp.post("/shares/<share_id>/revoke")
@signin_required
def revoke(share_id: str):
    if not RevokeForm().validate_on_submit():
        abort(400)
    service = get_share_service()
    try:
        share = service.revoke(current_portal_session().sub, share_id)
    except ShareNotFound:
        abort(404)
    db.session.commit()
    flash(_l("The link is revoked: it no longer opens the document."))
    return redirect(url_for("learner.show", public_id=service.document_of(share).public_id))


# The third party's side.


@bp.route("/s/<token>", methods=["GET", "POST"])
def open_share(token: str):
    share = live_share(token)
    if share.has_code and not is_granted(share):
        return ask_code(share, token)
    service = get_share_service()
    service.record_open(share)
    db.session.commit()
    document = service.document_of(share)
    response = shared(page("shares/shared.html", document=document, share=share, token=token,
                           verdict=get_verify_service().verify_document(document)))
    return allow_viewer(response, form_action_origin=portal().passerelle.issuer_origin(),
                        https=portal().settings.DOCUMENT_PORTAL_BASE_URL.startswith("https://"))


def ask_code(share, token: str):
    """The access code form; the right code lets this browser see the share from then on."""
    form = AccessCodeForm()
    if form.validate_on_submit():
        try:
            get_share_service().check_code(share, form.code.data)
        except WrongAccessCode as wrong:
            failed()
            if wrong.remaining == 0:  # that was the last try: the share is locked now
                return not_available()
            form.code.errors.append(_l("This access code is not the right one. Tries left before the link locks: "
                                       "%(remaining)s.", remaining=wrong.remaining))
        except ShareNotAvailable:
            failed()
            return not_available()
        else:
            db.session.commit()
            grant(share)
            return redirect(url_for("shares.open_share", token=token))
    return shared(page("shares/code.html", 422 if form.errors else 200, form=form))


@bp.get("/s/<token>/pdf")
def shared_pdf(token: str):
    return shared(pdf_response(granted_document(token), locale(), inline=True))


@bp.get("/s/<token>/download")
def shared_download(token: str):
    return shared(pdf_response(granted_document(token), locale(), inline=False))


def live_share(token: str):
    """The live share the link names, after the address's attempts are checked. Aborts with
    the "too many attempts" or the one "not available" page."""
    try:
        get_attempt_limiter().check(request.remote_addr)
        return get_share_service().find_open(token)
    except TooManyAttempts as error:
        response = shared(page("shares/too_many.html", 429))
        response.headers["Retry-After"] = str(error.retry_after)
        abort(response)
    except ShareNotAvailable:
        failed()
        abort(not_available())


def granted_document(token: str):
    share = live_share(token)
    if share.has_code and not is_granted(share):
        return abort(not_available())
    return get_share_service().document_of(share)


def failed() -> None:
    get_attempt_limiter().record_failure(request.remote_addr)
    db.session.commit()


def not_available():
    """The one page for every link that does not open: unknown, expired, revoked, locked,
    withdrawn. The same status and the same body (its language link leads to the portal's
    home, not back to the link), so nothing tells them apart."""
    return make_response(shared(page("shares/not_available.html", 404)))


def is_granted(share) -> bool:
    return share.public_id in session.get(GRANTS_KEY, [])


def grant(share) -> None:
    session[GRANTS_KEY] = [*session.get(GRANTS_KEY, [])[-(MAX_GRANTS - 1):], share.public_id]


def shared(result):
    """A share page's response: never cached, never indexed, never a Referer."""
    response = make_response(result)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
