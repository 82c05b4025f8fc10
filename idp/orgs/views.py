"""/account/organization/<org>: the primary user's pages (issue 11, seed 001).

« Créer un compte pour un utilisateur d'un EED » (invite a secondary user), the members and
the invitations not yet used (resend, withdraw), and the requests to change the primary
user or remove a secondary user. Every page and action needs a sign-in with a second
factor less than MFA_MANAGE_FRESHNESS seconds old, as managing two-factor does
(idp.mfa.web.fresh_person), then the organization's active primary user: anyone else gets
a refusal page that names no other organization's data.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, current_app, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.accounts.models import User
from idp.extensions import db, limiter
from idp.mfa.web import fresh_person
from idp.orgs.errors import (
    AlreadyMember,
    InvalidOrganization,
    InvitationNotOpen,
    LastPrimaryCannotBeRemoved,
    MemberNotFound,
    NotPrimaryUser,
    OrganizationDisabled,
    OrgError,
    PrimaryAlreadyExists,
    RequestAlreadyPending,
)
from idp.orgs.forms import NEW_PRIMARY, ActionForm, ChangePrimaryForm, InviteForm, RemoveSecondaryForm
from idp.orgs.models import MemberRole, Organization, RequestKind
from idp.orgs.requests import ChangeRequestService
from idp.orgs.memberships import Inviter
from idp.orgs.web import KIND_NAMES, REQUEST_KIND_NAMES, REQUEST_STATE_NAMES, ROLE_NAMES, get_organization_service
from idp.web.errors import error_response

bp = Blueprint("orgs", __name__, url_prefix="/account/organization")

# Domain refusals shown on the form (or, for resend and withdraw, at the top of the page).
ERROR_MESSAGES = {
    AlreadyMember: _l("This address already belongs to a member of your organization."),
    MemberNotFound: _l("This person is no longer a member of your organization. Choose again."),
    LastPrimaryCannotBeRemoved: _l("The primary user cannot be removed. Ask to change the primary user instead."),
    RequestAlreadyPending: _l("A request like this one is already waiting for a decision."),
    InvitationNotOpen: _l("This invitation can no longer be changed: it was used or withdrawn."),
    PrimaryAlreadyExists: _l("Your organization already has a primary user."),
}
# InvalidOrganization.problem: what is wrong with the value the person typed.
PROBLEM_MESSAGES = {
    "missing": _l("This field is required."),
    "too_long": _l("This text is too long."),
    "line_break": _l("Remove the line breaks and control characters."),
    "bidi": _l("Remove the invisible or text-direction characters, often pasted with text from another document."),
    "markup": _l("Remove the characters < and >."),
    "email": _l("Enter an email address, like name@example.ca."),
}
CHECK_THIS_VALUE = _l("Check this value.")
# The refusal pages: (status, title, message).
REFUSALS = {
    NotPrimaryUser: (403, _l("Only the primary user can do this"), _l(
        "Only your organization's primary user can manage its users and requests. "
        "If you think you should, ask your organization's primary user."
    )),
    OrganizationDisabled: (403, _l("This organization is disabled"), _l(
        "Nobody can manage a disabled organization's users or requests. Contact the service that registered it."
    )),
}
NOT_FOUND = (404, _l("Organization not found"), _l("Check the address, or go to your account."))


@dataclass(frozen=True)
class Area:
    """The primary user, their organization and the service, once every check passed."""

    user: User
    organization: Organization
    service: ChangeRequestService


def refusal(error: OrgError) -> Response:
    status, title, message = REFUSALS.get(type(error), NOT_FOUND)
    body, code, headers = error_response(status, page=(title, message))
    return current_app.make_response((body, code, headers))


def primary_area(reference: str, page_endpoint: str) -> tuple[Area | None, Response | None]:
    """The area if the person signed in with a fresh second factor and is this active
    organization's primary user; otherwise the sign-in that comes back to the page, or a
    refusal (404 for an unknown organization, 403 for anyone but its primary user)."""
    user, elsewhere = fresh_person(url_for(page_endpoint, org=reference))
    if elsewhere is not None:
        return None, elsewhere
    service = get_organization_service()
    try:
        organization = service.get(reference)
        service.ensure_primary(organization.id, user.id)
    except OrgError as error:
        db.session.rollback()
        return None, refusal(error)
    return Area(user, organization, service), None


def show_error(form, error: OrgError, fields: dict[str, str]) -> Response | None:
    """Put a domain refusal on the form field it concerns; a refusal page for the ones that
    end the person's right to be here (no longer primary, organization disabled)."""
    db.session.rollback()
    if type(error) in REFUSALS:
        return refusal(error)
    if isinstance(error, InvalidOrganization):
        message = PROBLEM_MESSAGES.get(error.problem or "", CHECK_THIS_VALUE)
        field_name = fields.get(error.field, next(iter(fields.values())))
    else:
        message, field_name = ERROR_MESSAGES.get(type(error), CHECK_THIS_VALUE), fields["*"]
    getattr(form, field_name).errors.append(str(message))  # str: escaped like any text ("<" in a message)
    return None


def page_context(area: Area) -> dict:
    locale = str(get_locale())
    return {
        "organization": area.organization,
        "organization_name": area.organization.name_in(locale),
        "kind_name": KIND_NAMES.get(area.organization.kind, area.organization.kind),
        "is_dli": area.organization.kind == "dli",
    }


def secondaries_of(area: Area) -> list:
    return [row for row in area.service.members(area.organization.id) if row[0].role == MemberRole.SECONDARY]


def rate_limit() -> str:
    return current_app.config["ORGANIZATION_INVITE_RATE_LIMIT"]


@bp.route("/<org>")
def overview(org: str):
    area, elsewhere = primary_area(org, "orgs.overview")
    if elsewhere is not None:
        return elsewhere
    return render_template(
        "orgs/overview.html", **page_context(area), role_names=ROLE_NAMES, form=ActionForm(),
        members=area.service.members(area.organization.id),
        invitations=area.service.open_invitations(area.organization.id), now=area.service.clock(),
        notices=get_flashed_messages(with_categories=True),
    )


@bp.route("/<org>/invite", methods=["GET", "POST"])
@limiter.limit(rate_limit, methods=["POST"])
def invite(org: str):
    """« Créer un compte pour un utilisateur d'un EED »: an address, then « Nouvelle requête »."""
    area, elsewhere = primary_area(org, "orgs.invite")
    if elsewhere is not None:
        return elsewhere
    form = InviteForm(data={"locale": str(get_locale())} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            invitation, _code = area.service.invite(
                area.organization.id, email=form.email.data, role=MemberRole.SECONDARY,
                inviter=Inviter(user_id=area.user.id), locale=form.locale.data,
            )
        except OrgError as error:
            if (response := show_error(form, error, {"email": "email", "locale": "locale", "*": "email"})) is not None:
                return response
        else:
            db.session.commit()
            # The same words whether or not the address has an account (issue 11: no enumeration).
            flash(_("We sent an invitation code to %(email)s. The invitation stays pending until they register with it.",
                    email=invitation.email))
            return redirect(url_for("orgs.overview", org=org), code=303)
    return render_template("orgs/invite.html", **page_context(area), form=form), 422 if form.errors else 200


@bp.route("/<org>/invitations/<int:invitation_id>/resend", methods=["POST"])
@limiter.limit(rate_limit)
def resend(org: str, invitation_id: int):
    return _invitation_action(org, lambda area: area.service.resend_invitation(
        area.organization.id, invitation_id, by_user_id=area.user.id,
    ), _l("The invitation to %(email)s was sent again with a new code. The earlier code no longer works."))


@bp.route("/<org>/invitations/<int:invitation_id>/withdraw", methods=["POST"])
def withdraw(org: str, invitation_id: int):
    return _invitation_action(org, lambda area: area.service.withdraw_invitation(
        area.organization.id, invitation_id, by_user_id=area.user.id,
    ), _l("The invitation to %(email)s was withdrawn: its code no longer works."))


def _invitation_action(org: str, action, done_message) -> Response:
    """Resend or withdraw (after the checks and the CSRF token), then back to the page."""
    area, elsewhere = primary_area(org, "orgs.overview")
    if elsewhere is not None:
        return elsewhere
    if ActionForm().validate_on_submit():
        try:
            invitation = action(area)
        except OrgError as error:
            db.session.rollback()
            if type(error) in REFUSALS:
                return refusal(error)
            flash(str(ERROR_MESSAGES.get(type(error), CHECK_THIS_VALUE)), "error")
        else:
            db.session.commit()
            flash(str(done_message) % {"email": invitation.email})
    return redirect(url_for("orgs.overview", org=org), code=303)


@bp.route("/<org>/requests")
def requests(org: str):
    area, elsewhere = primary_area(org, "orgs.requests")
    if elsewhere is not None:
        return elsewhere
    return render_template(
        "orgs/requests.html", **page_context(area), kind_names=REQUEST_KIND_NAMES, state_names=REQUEST_STATE_NAMES,
        rows=area.service.requests_of(area.organization.id, by_user_id=area.user.id),
        notices=get_flashed_messages(),
    )


@bp.route("/<org>/requests/remove-secondary", methods=["GET", "POST"])
def remove_secondary(org: str):
    area, elsewhere = primary_area(org, "orgs.remove_secondary")
    if elsewhere is not None:
        return elsewhere
    form = RemoveSecondaryForm(data={"member": request.args.get("member", "")} if request.method == "GET" else None)
    if form.validate_on_submit():
        response = _submit(area, form, {"reason": "reason", "*": "member"}, kind=RequestKind.REMOVE_SECONDARY,
                           target_membership_id=int(form.member.data))
        if response is not None:
            return response
    choices = [(membership.id, f"{user.name} ({user.email})", None) for membership, user in secondaries_of(area)]
    return render_template(
        "orgs/remove_secondary.html", **page_context(area), form=form, choices=choices,
    ), 422 if form.errors else 200


@bp.route("/<org>/requests/change-primary", methods=["GET", "POST"])
def change_primary(org: str):
    area, elsewhere = primary_area(org, "orgs.change_primary")
    if elsewhere is not None:
        return elsewhere
    form = ChangePrimaryForm(data={"new_locale": str(get_locale())} if request.method == "GET" else None)
    if form.validate_on_submit():
        is_new = form.target.data == NEW_PRIMARY
        response = _submit(
            area, form, {"reason": "reason", "email": "new_email", "target": "target",
                         "former_primary_becomes": "former_primary_becomes", "*": "target"},
            kind=RequestKind.CHANGE_PRIMARY, former_primary_becomes=form.former_primary_becomes.data,
            target_membership_id=None if is_new else int(form.target.data),
            new_email=form.new_email.data if is_new else None, new_locale=form.new_locale.data if is_new else None,
        )
        if response is not None:
            return response
    return render_template(
        "orgs/change_primary.html", **page_context(area), form=form, secondaries=secondaries_of(area),
        new_choice=NEW_PRIMARY,
    ), 422 if form.errors else 200


def _submit(area: Area, form, fields: dict[str, str], **values) -> Response | None:
    """Submit one request; its page again (None) with the refusal on its field, or the
    requests page."""
    try:
        area.service.submit_request(area.organization.id, by_user_id=area.user.id, reason=form.reason.data, **values)
    except OrgError as error:
        return show_error(form, error, fields)
    db.session.commit()
    flash(_l("Your request was sent. An operator will review it; you will receive an email when it is decided."))
    return redirect(url_for("orgs.requests", org=area.organization.public_id), code=303)
