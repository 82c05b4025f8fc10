"""Letters of acceptance to verify: the institution's pending queue and history, and each
letter's decision (confirm, or refuse with a reason), for every user of the institution."""

from __future__ import annotations

import base64
import json

from flask import Blueprint, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from clients.institution_portal.access import member_required
from clients.institution_portal.db import db
from clients.institution_portal.errors import OrganizationsApiError
from clients.institution_portal.letters.errors import (
    LetterAlreadyDecided,
    LetterNotFound,
    ReasonRequired,
    ReasonTooLong,
    UnknownDecision,
)
from clients.institution_portal.letters.forms import CHOOSE_A_DECISION, DecisionForm
from clients.institution_portal.letters.web import get_letter_service
from clients.institution_portal.users.web import get_organizations_api
from clients.institution_portal.web import current_portal_session, page

bp = Blueprint("letters", __name__, url_prefix="/letters")

ERROR_MESSAGES = {
    ReasonRequired: _l("Give the reason why you refuse the letter."),
    ReasonTooLong: _l("Write at most 1,000 characters."),
    UnknownDecision: CHOOSE_A_DECISION,
}
ALREADY_DECIDED = _l("Someone in your institution decided this letter already. Nothing was changed; their decision "
                     "is below.")


def person_name(person) -> str:
    """The person's name for the record of who decided: from their verified ID token when it
    carries one, else from Passerelle's member list (organizations API), else their sub
    (Passerelle out of reach does not stop a decision)."""
    try:
        payload = person.id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        claims = {}
    name = " ".join(str(claims[key]) for key in ("given_name", "family_name") if claims.get(key))
    if not name:
        try:
            members = get_organizations_api().list_members(person.organization_id)
        except OrganizationsApiError as error:
            current_app.logger.warning("no name for the letter's decision: %r", error)
            members = []
        name = next((member.full_name or member.email for member in members if member.sub == person.sub), "")
    return (name or person.sub)[:300]


@bp.errorhandler(LetterNotFound)
def not_found(_error):
    return page("error.html", 404, kind="not_found")


@bp.get("")
@member_required
def index():
    service, number = get_letter_service(), current_portal_session().organization_number
    return page("letters/index.html", pending=service.pending(number), decided=service.decided(number))


@bp.route("/<public_id>", methods=["GET", "POST"])
@member_required
def show(public_id: str):
    person = current_portal_session()
    service = get_letter_service()
    letter = service.get(person.organization_number, public_id)
    form = DecisionForm()
    problems: list[str] = []
    if letter.is_pending and form.validate_on_submit():
        try:
            service.decide(person.organization_number, public_id, decision=form.decision.data,
                           reason=form.reason.data, actor_sub=person.sub, actor_name=person_name(person))
        except LetterAlreadyDecided:
            db.session.rollback()
            return page("letters/show.html", 409, letter=letter, form=form, problems=[ALREADY_DECIDED])
        except (ReasonRequired, ReasonTooLong, UnknownDecision) as error:
            field = form.decision if isinstance(error, UnknownDecision) else form.reason
            field.errors = [*field.errors, ERROR_MESSAGES[type(error)]]
        else:
            db.session.commit()
            flash(_("The letter %(number)s is confirmed.", number=letter.letter_number) if form.decision.data == "confirm"
                  else _("The letter %(number)s is refused.", number=letter.letter_number), "success")
            return redirect(url_for("letters.index"))
    elif not letter.is_pending and form.is_submitted():
        return page("letters/show.html", 409, letter=letter, form=form, problems=[ALREADY_DECIDED])
    status = 422 if form.errors else 200
    return page("letters/show.html", status, letter=letter, form=form, problems=problems)
