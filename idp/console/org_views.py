"""The console's organization pages (issue 16), operators only: the list, one organization
with its members and requests, and the change-requests queue with approve / reject and a
reason. Their routes join the console's blueprint (idp/app.py imports this module)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp.console.errors import NothingToDo, OwnAccount, ReasonRequired
from idp.console.forms import ReasonForm
from idp.console.organizations import APPROVE, DISABLE, ENABLE, REJECT
from idp.console.views import ERROR_MESSAGES, bp
from idp.console.web import (
    console_page,
    current_agent,
    current_agent_email,
    get_console_organizations,
    key_again,
    spend_key,
)
from idp.extensions import db
from idp.orgs.web import KIND_NAMES, REQUEST_KIND_NAMES, REQUEST_STATE_NAMES, ROLE_NAMES
from idp.orgs.errors import (
    InvalidOrganization,
    LastPrimaryCannotBeRemoved,
    MemberNotFound,
    OrganizationDisabled,
    OrganizationNotFound,
    RequestAlreadyDecided,
    RequestNotFound,
)

DECISION_ERRORS = {
    ReasonRequired: ERROR_MESSAGES[ReasonRequired],
    OwnAccount: _l("This request is yours or concerns your own account. Ask another operator to decide it."),
    RequestAlreadyDecided: _l("This request was already decided, perhaps by another operator."),
    OrganizationDisabled: _l("The organization is disabled: enable it before approving."),
    MemberNotFound: _l("The member this request concerns is no longer in the organization: reject it."),
    LastPrimaryCannotBeRemoved: _l("This member is now the primary user and cannot be removed: reject the request."),
    InvalidOrganization: _l("Remove the angle brackets, line breaks and invisible characters from the reason."),
}
NAMES = {"kind_names": KIND_NAMES, "request_kind_names": REQUEST_KIND_NAMES,
         "request_state_names": REQUEST_STATE_NAMES, "role_names": ROLE_NAMES}
STATE_ACTIONS = {
    DISABLE: (_l("Disable the organization"), _l(
        "Its members can no longer act for it: each member's sessions end, pending invitations are "
        "withdrawn, and the members are emailed. Enabling it later gives them back nothing they had.")),
    ENABLE: (_l("Enable the organization"), _l("Its members can act for it again; they are emailed.")),
}
ALREADY_SO = _l("Nothing to do: the organization is already in this state. Another operator may have just changed it.")
STATE_DONE = {DISABLE: _l("The organization is disabled; its members are emailed."),
              ENABLE: _l("The organization is enabled; its members are emailed.")}
DECIDED = {APPROVE: _l("The request was approved and applied; the people concerned are emailed."),
           REJECT: _l("The request was rejected; the requester is emailed.")}


@bp.route("/organizations")
@console_page(operator_only=True)
def organizations():
    return render_template("console/organizations.html", organizations=get_console_organizations().list(current_agent()),
                           **NAMES)


@bp.route("/organizations/<reference>")
@console_page(operator_only=True)
def organization(reference: str):
    try:
        page = get_console_organizations().show(current_agent(), reference)
    except (OrganizationNotFound, InvalidOrganization):
        abort(404)
    return render_template("console/organization.html", page=page, notice=STATE_DONE.get(request.args.get("done")),
                           **NAMES)


@bp.route("/organizations/<reference>/<action>", methods=["GET", "POST"])
@console_page(operator_only=True, destructive=lambda reference, action: action == DISABLE)
def organization_state(reference: str, action: str):
    """Disable or enable an organization, with a reason."""
    if action not in STATE_ACTIONS:
        abort(404)
    service, form = get_console_organizations(), ReasonForm()
    try:
        page = service.show(current_agent(), reference)
    except (OrganizationNotFound, InvalidOrganization):
        abort(404)
    if form.validate_on_submit():
        try:
            service.change_state(current_agent(), current_agent_email(), reference, action, form.reason.data)
        except (ReasonRequired, NothingToDo) as error:
            db.session.rollback()
            form.reason.errors.append(ALREADY_SO if isinstance(error, NothingToDo) else ERROR_MESSAGES[type(error)])
        else:
            if action == DISABLE and not spend_key():
                return key_again()
            db.session.commit()
            return redirect(url_for("console.organization", reference=page.organization.public_id, done=action), code=303)
    title, explanation = STATE_ACTIONS[action]
    return render_template("console/organization_state.html", form=form, page=page, action=action, title=title,
                           explanation=explanation), 422 if form.errors else 200


@bp.route("/requests")
@console_page(operator_only=True)
def requests():
    done = request.args.get("done")
    return render_template("console/requests.html", requests=get_console_organizations().pending(current_agent()),
                           notice=DECIDED.get(done), **NAMES)


@bp.route("/requests/<reference>/<decision>", methods=["GET", "POST"])
@console_page(operator_only=True, destructive=lambda reference, decision: decision == APPROVE)
def decide(reference: str, decision: str):
    """Approve or reject one request, with the reason sent to the requester."""
    if decision not in (APPROVE, REJECT):
        abort(404)
    service, form = get_console_organizations(), ReasonForm()
    try:
        row = service.request(current_agent(), reference)
    except RequestNotFound:
        abort(404)
    if form.validate_on_submit():
        try:
            service.decide(current_agent(), current_agent_email(), reference, decision, form.reason.data)
        except tuple(DECISION_ERRORS) as error:
            db.session.rollback()
            form.reason.errors.append(DECISION_ERRORS[type(error)])
        else:
            if decision == APPROVE and not spend_key():
                return key_again()
            db.session.commit()
            return redirect(url_for("console.requests", done=decision), code=303)
    return render_template("console/decide.html", form=form, row=row, decision=decision, **NAMES), 422 if form.errors else 200
