"""Home (the welcome page, or straight to the person's documents or their school's), help,
language."""

from __future__ import annotations

from flask import Blueprint, redirect, request, session, url_for

from clients.document_portal.web import (
    LOCALES,
    current_portal_session,
    is_local_path,
    page,
)

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
    if code in LOCALES:
        session["lang"] = code
    target = request.args.get("next", "/")
    return redirect(target if is_local_path(target) else "/")
