"""Users (primary user only, seed 001): the institution's members, open invitations and
requests; « Créer un compte pour un utilisateur d'un EED » (« Nouvelle requête »); requests to
change the primary user or remove a secondary user. Passerelle's refusals become messages in
the page's language; Passerelle out of reach is a 503 page, never a 500."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from clients.institution_portal.access import primary_required
from clients.institution_portal.errors import (
    AlreadyMember,
    ApiNotAllowed,
    ApiRateLimited,
    ApiUnavailable,
    InvalidApiRequest,
    NotASecondaryUser,
    NotPrimaryUser,
    OrganizationDisabled,
    OrganizationNotReachable,
    OrganizationsApiError,
    PrimaryCannotBeRemoved,
    PrimaryExists,
    RequestAlreadyPending,
)
from clients.institution_portal.users.forms import (
    CHOOSE_A_MEMBER,
    NEW_PRIMARY,
    ChangePrimaryForm,
    InviteForm,
    RemoveSecondaryForm,
)
from clients.institution_portal.users.services import UsersService
from clients.institution_portal.users.web import get_organizations_api
from clients.institution_portal.web import current_portal_session, locale, page, portal

bp = Blueprint("users", __name__, url_prefix="/users")

ERROR_MESSAGES = {
    AlreadyMember: _l("This address already belongs to a user of your institution."),
    NotPrimaryUser: _l("Passerelle no longer counts you as your institution's primary user. Sign out, then sign in "
                       "again."),
    OrganizationDisabled: _l("Your institution is disabled at Passerelle: no invitation or request can be made. "
                             "Contact the ministry."),
    RequestAlreadyPending: _l("The same request is already waiting for a decision."),
    PrimaryCannotBeRemoved: _l("The primary user cannot be removed: ask to change the primary user instead."),
    PrimaryExists: _l("Your institution already has a primary user."),
    NotASecondaryUser: CHOOSE_A_MEMBER,
    ApiRateLimited: _l("Too many invitations or requests were sent in a short time. Try again later."),
    OrganizationNotReachable: _l("The portal cannot manage your institution's users at Passerelle yet. Contact the "
                                 "ministry."),
    ApiNotAllowed: _l("The portal cannot manage your institution's users at Passerelle yet. Contact the ministry."),
}
FIELD_MESSAGES = {
    "email": _l("Enter a valid email address, like name@example.ca."),
    "new_email": _l("Enter a valid email address, like name@example.ca."),
    "reason": _l("The reason cannot contain the characters < or >, nor invisible or text-direction characters."),
}
PASSERELLE_UNAVAILABLE = _l("Passerelle cannot be reached right now. Try again in a few minutes.")


def get_users_service() -> UsersService:
    return UsersService(get_organizations_api())


@bp.errorhandler(ApiUnavailable)
def unavailable(error: ApiUnavailable):
    current_app.logger.warning("organizations API unavailable: %r", error)
    return page("users/unavailable.html", 503, message=PASSERELLE_UNAVAILABLE)


@bp.errorhandler(OrganizationsApiError)
def refused(error: OrganizationsApiError):
    """A refusal no form field explains (the portal not attached, Passerelle's limit, …)."""
    current_app.logger.warning("organizations API refused: %r", error)
    return page("users/unavailable.html", 409, message=refusal(error))


def refusal(error: OrganizationsApiError) -> str:
    """The message for a refusal; a malformed field names what to fix."""
    if isinstance(error, InvalidApiRequest):
        return str(FIELD_MESSAGES.get(error.field, _l("Passerelle refused the request. Check what you entered.")))
    return str(ERROR_MESSAGES.get(type(error), _l("Passerelle refused the request. Check what you entered.")))


def show_refusal(error: OrganizationsApiError, problems: list[str], fields: dict) -> None:
    """Put the message on the field it concerns (by error class, or by the member Passerelle
    named), else in the error summary. ApiUnavailable goes on to the 503 page."""
    if isinstance(error, ApiUnavailable):
        raise error
    field = fields.get(error.field) if isinstance(error, InvalidApiRequest) else fields.get(type(error))
    (field.errors.append if field is not None else problems.append)(refusal(error))


@bp.get("")
@primary_required
def index():
    person = current_portal_session()
    overview = get_users_service().overview(person.organization_id, person.sub)
    return page("users/index.html", overview=overview, person=person, now=portal().clock())


@bp.route("/new", methods=["GET", "POST"])
@primary_required
def invite():
    person = current_portal_session()
    form = InviteForm(data=None if request.method == "POST" else {"locale": locale()})
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            invitation = get_users_service().invite(person.organization_id, acting_sub=person.sub,
                                                    email=form.email.data, locale=form.locale.data)
        except OrganizationsApiError as error:
            show_refusal(error, problems, {AlreadyMember: form.email, "email": form.email})
        else:
            flash(_("Invitation sent to %(email)s. The person will receive an invitation code by email and can "
                     "create their own account.", email=invitation.email), "success")
            return redirect(url_for("users.index"))
    return page("users/invite.html", 422 if form.errors or problems else 200, form=form, problems=problems)


@bp.route("/remove", methods=["GET", "POST"])
@primary_required
def remove():
    person = current_portal_session()
    service = get_users_service()
    form = RemoveSecondaryForm(data=None if request.method == "POST" else {"member": request.args.get("member")})
    problems: list[str] = []
    secondaries = service.overview(person.organization_id, person.sub).secondaries
    if form.validate_on_submit():
        try:
            service.request_removal(person.organization_id, acting_sub=person.sub, target_sub=form.member.data,
                                    reason=form.reason.data)
        except OrganizationsApiError as error:
            show_refusal(error, problems, {NotASecondaryUser: form.member, "target_sub": form.member,
                                           "reason": form.reason})
        else:
            flash(_("Your request to remove the secondary user was sent. An operator reviews it; you will receive "
                     "an email at each step."), "success")
            return redirect(url_for("users.index"))
    return page("users/remove.html", 422 if form.errors or problems else 200, form=form, problems=problems,
                secondaries=secondaries)


@bp.route("/change-primary", methods=["GET", "POST"])
@primary_required
def change_primary():
    person = current_portal_session()
    service = get_users_service()
    form = ChangePrimaryForm(data=None if request.method == "POST" else {"new_locale": locale()})
    problems: list[str] = []
    secondaries = service.overview(person.organization_id, person.sub).secondaries
    if form.validate_on_submit():
        new = form.target.data == NEW_PRIMARY
        try:
            service.request_primary_change(
                person.organization_id, acting_sub=person.sub, reason=form.reason.data,
                becomes=form.former_primary_becomes.data, target_sub=None if new else form.target.data,
                new_email=form.new_email.data if new else None, locale=form.new_locale.data or locale())
        except OrganizationsApiError as error:
            show_refusal(error, problems, {NotASecondaryUser: form.target, "target_sub": form.target,
                                           AlreadyMember: form.new_email, "new_email": form.new_email,
                                           "reason": form.reason})
        else:
            flash(_("Your request to change the primary user was sent. An operator reviews it; you will receive an "
                     "email at each step."), "success")
            return redirect(url_for("users.index"))
    return page("users/change_primary.html", 422 if form.errors or problems else 200, form=form, problems=problems,
                secondaries=secondaries, new_choice=NEW_PRIMARY)
