"""The verification service as views build it (the public page, the learner's panel and the
share page use it)."""

from __future__ import annotations

from clients.document_portal.db import db
from clients.document_portal.verify.services import VerifyService
from clients.document_portal.web import portal


def get_verify_service() -> VerifyService:
    settings = portal().settings
    return VerifyService(db.session, portal().signing.verify, settings.DOCUMENT_PORTAL_MAX_PDF_BYTES)
