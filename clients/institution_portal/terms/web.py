"""The terms service as views build it (the terms views, access checks and home use it)."""

from __future__ import annotations

from clients.institution_portal.db import db
from clients.institution_portal.terms.services import TermsService
from clients.institution_portal.web import portal


def get_terms_service() -> TermsService:
    return TermsService(db.session, portal().settings, portal().clock)
