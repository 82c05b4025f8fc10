"""The console's pages (/admin, issue 16): find a person, see them, act with a reason.
Every view goes through console_page (idp.console.web); services do the work."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from idp.console.actions import VERIFICATIONS
from idp.console.errors import NotAllowed, NothingToDo, OwnAccount, ReasonRequired, UnknownPerson, VerificationRequired
from idp.console.forms import ReasonForm, ResetTwoFactorForm, SearchForm
from idp.console.web import (
    console_page,
    console_started_at,
    current_agent,
    end_console_session,
    get_people_service,
    get_person_actions,
    key_again,
    spend_key,
)
from idp.extensions import db

bp = Blueprint("console", __name__, url_prefix="/admin")

ERROR_MESSAGES = {
    ReasonRequired: _l("Write the reason for this action: it is kept in the audit log."),
    OwnAccount: _l("You cannot act on your own account from the console. Ask another agent."),
    NothingToDo: _l("Nothing to do: the account is not in the state this action needs. Another agent may have just done it."),
    VerificationRequired: _l("Choose how you verified the person's identity."),
    NotAllowed: _l("Only operators can search by name."),
}
AGENT_ACCOUNT = _l("Only an operator can act on the account of a console agent.")
VERIFICATION_NAMES = {
    "video_call_id_document": _l("Video call with a government-issued photo ID"),
    "in_person_id_document": _l("In person, with a government-issued photo ID"),
    "callback_known_number": _l("Called back at a phone number already on file"),
    "organization_confirmed": _l("Confirmed by the person's organization (primary user)"),
}


@dataclass(frozen=True)
class Action:
    method: str
    destructive: bool
    title: LazyString
    explanation: LazyString
    done: LazyString


ACTIONS = {
    "resend-activation": Action(
        "resend_activation", False, _l("Resend the activation email"),
        _l("The person gets a new activation link by email; the previous link stops working."),
        _l("A new activation email is on its way.")),
    "unlock": Action(
        "unlock", False, _l("Unlock the account"),
        _l("The sign-in lock ends and the failure count starts from zero. Nobody is signed in."),
        _l("The account is unlocked.")),
    "end-sessions": Action(
        "end_sessions", True, _l("End all sessions"),
        _l("Every session of the person ends, and every access the services received from them, "
           "including offline access. The services are told to sign the person out."),
        _l("Every session and every access of the person ended.")),
    "disable": Action(
        "disable", True, _l("Disable the account"),
        _l("The person can no longer sign in; every session and every access ends now. "
           "Enabling the account later brings none of them back."),
        _l("The account is disabled.")),
    "enable": Action(
        "enable", False, _l("Enable the account"),
        _l("The person can sign in again."),
        _l("The account is enabled.")),
}
RESET_DONE = _l("Two-factor was reset. The person was emailed and sets up a new method at their next sign-in.")


def _name_or_404(user_id: int) -> str:
    """The person's name if this agent may open them (PeopleService.require_found), else 404."""
    people = get_people_service()
    try:
        people.require_found(current_agent(), user_id, console_started_at())
        return people.name_of(user_id)
    except UnknownPerson:
        abort(404)


def _is_destructive(user_id: int, action: str) -> bool:
    return action in ACTIONS and ACTIONS[action].destructive


# strict_slashes off: /admin must not redirect to /admin/ for everyone, which would reveal
# the console to people without a role (they get 404 either way).
@bp.route("/", methods=["GET", "POST"], strict_slashes=False)
@console_page()
def index():
    """Find a person by exact email (and by name for operators). POST: no address in logs."""
    form, found, results, message = SearchForm(), None, None, None
    if form.validate_on_submit():
        people = get_people_service()
        try:
            if form.email.data:
                found = people.find_by_email(current_agent(), form.email.data)
                if found is not None:
                    db.session.commit()
                    return redirect(url_for("console.person", user_id=found.id), code=303)
                message = _l("No account has this exact address.")
            elif form.name.data:
                results = people.search_by_name(current_agent(), form.name.data)
            else:
                form.email.errors.append(_l("Enter the person's exact email address, like name@example.ca."))
        except NotAllowed:
            form.name.errors.append(ERROR_MESSAGES[NotAllowed])
        db.session.commit()
    status = 422 if form.errors else 200
    return render_template("console/index.html", form=form, results=results, message=message,
                           agent=current_agent()), status


@bp.route("/people/<int:user_id>")
@console_page()
def person(user_id: int):
    people = get_people_service()
    try:
        people.require_found(current_agent(), user_id, console_started_at())
        profile = people.profile(current_agent(), user_id)
    except UnknownPerson:
        abort(404)
    db.session.commit()
    done = request.args.get("done")
    notice = RESET_DONE if done == "reset-two-factor" else ACTIONS[done].done if done in ACTIONS else None
    return render_template("console/person.html", person=profile, actions=ACTIONS, notice=notice,
                           agent=current_agent(), is_self=profile.id == current_agent().user_id)


@bp.route("/people/<int:user_id>/<action>", methods=["GET", "POST"])
@console_page(destructive=_is_destructive)
def act(user_id: int, action: str):
    """One action on a person, with the reason the agent types."""
    if action not in ACTIONS:
        abort(404)
    name = _name_or_404(user_id)
    form, spec = ReasonForm(), ACTIONS[action]
    if form.validate_on_submit():
        try:
            getattr(get_person_actions(), spec.method)(current_agent(), user_id, form.reason.data)
        except UnknownPerson:
            abort(404)
        except (ReasonRequired, OwnAccount, NothingToDo) as error:
            form.reason.errors.append(ERROR_MESSAGES[type(error)])
        except NotAllowed:
            form.reason.errors.append(AGENT_ACCOUNT)
        else:
            if spec.destructive and not spend_key():
                return key_again()
            db.session.commit()
            return redirect(url_for("console.person", user_id=user_id, done=action), code=303)
    return render_template("console/action.html", form=form, action=action, spec=spec, user_id=user_id, name=name), (
        422 if form.errors else 200)


@bp.route("/people/<int:user_id>/reset-two-factor", methods=["GET", "POST"])
@console_page(destructive=True)
def reset_two_factor(user_id: int):
    """Reset two-factor after identity verification: a choice and a note, both required."""
    name = _name_or_404(user_id)
    form = ResetTwoFactorForm()
    if form.validate_on_submit():
        try:
            get_person_actions().reset_two_factor(current_agent(), user_id, form.verification.data, form.reason.data)
        except UnknownPerson:
            abort(404)
        except VerificationRequired as error:
            form.verification.errors.append(ERROR_MESSAGES[type(error)])
        except (ReasonRequired, OwnAccount, NothingToDo) as error:
            form.reason.errors.append(ERROR_MESSAGES[type(error)])
        except NotAllowed:
            form.reason.errors.append(AGENT_ACCOUNT)
        else:
            if not spend_key():
                return key_again()
            db.session.commit()
            return redirect(url_for("console.person", user_id=user_id, done="reset-two-factor"), code=303)
    choices = [(value, str(VERIFICATION_NAMES[value]), None) for value in VERIFICATIONS]
    return render_template("console/reset_two_factor.html", form=form, choices=choices, user_id=user_id,
                           name=name), (
        422 if form.errors else 200)


@bp.route("/sign-out", methods=["POST"])
@console_page()
def sign_out():
    """Leave the console (the IdP session stays)."""
    response = redirect(url_for("accounts.home"), code=303)
    end_console_session(response)
    return response
