"""Home (the welcome page, or straight to the person's documents or their school's), help,
language."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

from clients.document_portal.web import (
    current_portal_session,
    page,
)
from clients.portal_kit.web import switch_language

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    person = current_portal_session()
    if person is None:
        return page("welcome.html")
    return redirect(url_for("issuing.index" if person.is_staff else "learner.index"))


@bp.get("/help")
def help():
    return page("help.html")


@bp.get("/lang/<code>")
def language(code: str):
    return switch_language(code)
