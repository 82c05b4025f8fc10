"""The learner's document page and lookups, as views use them (« Mes documents » and the
share views, which show the same page after a refused share)."""

from __future__ import annotations

from flask import abort, make_response

from clients.document_portal.db import db
from clients.document_portal.learner.errors import DocumentNotFound
from clients.document_portal.learner.responses import allow_viewer
from clients.document_portal.learner.services import LearnerDocuments
from clients.document_portal.shares.forms import RevokeForm, ShareForm
from clients.document_portal.shares.services import ShareService
from clients.document_portal.verify.web import get_verify_service
from clients.document_portal.web import current_portal_session, page, portal


def get_learner_documents() -> LearnerDocuments:
    return LearnerDocuments(db.session)


def own_document(public_id: str):
    try:
        return get_learner_documents().get(current_portal_session().sub, public_id)
    except DocumentNotFound:
        abort(404)


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
