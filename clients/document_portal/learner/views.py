"""« Mes documents »: the signed-in learner's documents, each viewed in the browser, downloaded
and verified. Only documents whose learner_sub is the person's: any other id is a 404."""

from __future__ import annotations

from flask import Blueprint

from clients.document_portal.learner.responses import pdf_response
from clients.document_portal.learner.web import document_page, get_learner_documents, own_document
from clients.document_portal.shares.forms import ShareForm
from clients.document_portal.web import (
    current_portal_session,
    locale,
    page,
    portal,
    signin_required,
)

bp = Blueprint("learner", __name__, url_prefix="/documents")


@bp.get("")
@signin_required
def index():
    return page("learner/index.html", documents=get_learner_documents().list(current_portal_session().sub),
                faq_url=portal().settings.faq_url)


@bp.get("/<public_id>")
@signin_required
def show(public_id: str):
    return document_page(own_document(public_id), ShareForm())


@bp.get("/<public_id>/pdf")
@signin_required
def view_pdf(public_id: str):
    return pdf_response(own_document(public_id), locale(), inline=True)


@bp.get("/<public_id>/download")
@signin_required
def download(public_id: str):
    return pdf_response(own_document(public_id), locale(), inline=False)
