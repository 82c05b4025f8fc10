"""The letters service as views build it (the letters views and home use it)."""

from __future__ import annotations

from clients.institution_portal.db import db
from clients.institution_portal.letters.services import LetterService
from clients.institution_portal.web import portal


def get_letter_service() -> LetterService:
    return LetterService(db.session, portal().clock)
