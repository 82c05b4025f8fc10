"""« Mes documents »: the signed-in learner's documents, each viewed in the browser, downloaded
and verified. Only documents whose learner_sub is the person's: any other id is a 404."""

from __future__ import annotations

from flask import Blueprint, abort, make_response

from clients.document_portal.db import db
from clients.document_portal.learner.errors import DocumentNotFound
from clients.document_portal.learner.responses import allow_viewer, pdf_response
from clients.document_portal.learner.services import LearnerDocuments
from clients.document_portal.shares.forms import RevokeForm, ShareForm
from clients.document_portal.shares.services import ShareService
from clients.document_portal.verify.views import get_verify_service
from clients.document_portal.web import (
    current_portal_session,
    locale,
    page,
    portal,
    signin_required,
)

bp = Blueprint("learner", __name__, url_prefix="/documents")


def get_learner_documents() -> LearnerDocuments:
    return LearnerDocuments(db.session)


def own_document(public_id: str):
    try:
        return get_learner_documents().get(current_portal_session().sub, public_id)
    except DocumentNotFound:
        abort(404)


@bp.get("")
@signin_required
def index():
    return page("learner/index.html", documents=get_learner_documents().list(current_portal_session().sub),
                faq_url=portal().settings.faq_url)


@bp.get("/<public_id>")
@signin_required
def show(public_id: str):
    return document_page(own_document(public_id), ShareForm())


def document_page(document, share_form: ShareForm, status: int = 200):
    """The document, its viewer, its verification and its shares (also after a refused share)."""
    settings = portal().settings
    shares = ShareService(db.session, settings.DOCUMENT_PORTAL_SECRET_KEY, portal().clock).active(
        current_portal_session().sub, document.public_id)
    response = make_response(page("learner/document.html", status, document=document, shares=shares,
                                  verdict=get_verify_service().verify_document(document),
                                  share_form=share_form, revoke_form=RevokeForm()))
    return allow_viewer(response, form_action_origin=portal().passerelle.issuer_origin(),
                        https=settings.DOCUMENT_PORTAL_BASE_URL.startswith("https://"))


@bp.get("/<public_id>/pdf")
@signin_required
def view_pdf(public_id: str):
    return pdf_response(own_document(public_id), locale(), inline=True)


@bp.get("/<public_id>/download")
@signin_required
def download(public_id: str):
    return pdf_response(own_document(public_id), locale(), inline=False)
