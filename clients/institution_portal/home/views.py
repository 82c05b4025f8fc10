"""Home (the institution, the person's role, what later phases will add), help, language."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

from clients.institution_portal.auth.forms import SignoutForm
from clients.institution_portal.db import db
from clients.institution_portal.letters.web import get_letter_service
from clients.institution_portal.periods.display import reporting_for
from clients.institution_portal.terms.web import get_terms_service
from clients.institution_portal.web import (
    current_portal_session,
    locale,
    page,
    portal,
    signin_required,
)
from clients.portal_kit.web import switch_language

bp = Blueprint("home", __name__)


@bp.get("/")
@signin_required
def index():
    person = current_portal_session()
    if not get_terms_service().has_accepted(person.sub):
        return redirect(url_for("terms.show"))
    name = person.organization_name_en if locale() == "en" else person.organization_name_fr
    reporting = reporting_for(db.session, portal().settings, portal().clock, person.organization_id)
    return page("home.html", person=person, institution_name=name, signout_form=SignoutForm(), reporting=reporting,
                pending_letters=get_letter_service().pending_count(person.organization_number))


@bp.get("/help")
def help():
    settings = portal().settings
    return page("help.html", support_email=settings.PORTAL_SUPPORT_EMAIL,
                response_days=settings.PORTAL_SUPPORT_RESPONSE_DAYS)


@bp.get("/lang/<code>")
def language(code: str):
    return switch_language(code)
