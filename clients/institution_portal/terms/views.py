"""The portal's terms at first sign-in: accept to continue, decline to be signed out."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for

from clients.institution_portal.auth.web import sign_out
from clients.institution_portal.db import db
from clients.institution_portal.terms.forms import TermsForm
from clients.institution_portal.terms.web import get_terms_service
from clients.institution_portal.web import (
    current_portal_session,
    page,
    signin_required,
)

bp = Blueprint("terms", __name__)


@bp.route("/terms", methods=["GET", "POST"])
@signin_required
def show():
    form = TermsForm()
    service = get_terms_service()
    if form.validate_on_submit():
        if form.decision.data == "decline":
            return sign_out(declined=True)
        service.accept(current_portal_session().sub)
        db.session.commit()
        return redirect(url_for("home.index"))
    return page("terms.html", 400 if form.errors else 200, form=form, version=service.current_version,
                accepted=service.has_accepted(current_portal_session().sub))
