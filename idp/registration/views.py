"""Registration pages, the link journey (seed 000): /register/invitation/<token> (form) →
"Check your email" → /register/activate/<token> (a button: scanners that open links
activate nothing) → /register/password ("Almost there") → signed in, on to where the person
came from. The code journey's pages are in code_views.py, on the same blueprint.
"""

from __future__ import annotations

from flask import Response, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp.accounts.errors import InvalidEmail, WeakPassword
from idp.accounts.forms import check_new_password_fields
from idp.accounts.password_text import describe_problem
from idp.extensions import db, limiter
from idp.invitations.errors import InvitationEmailMismatch, InvitationError
from idp.registration import code_views  # noqa: F401  (the code journey's routes, on bp)
from idp.registration.errors import AccountAlreadyActive, InvitationNoLongerValid, RegistrationError
from idp.registration.forms import TERMS_CHANGED, AlmostThereForm, ConfirmEmailForm, InvitationForm
from idp.registration.models import Registration
from idp.registration.services import Completed, RegistrationService
from idp.registration.web import (
    add_error,
    bp,
    commit_with_retry,
    get_invitation_service,
    get_registration_service,
    page_locale,
    problem,
    registration_cookie_name,
    registration_handle,
    registration_rate_limit,
    with_form_targets,
)
from idp.robot.web import check_robot
from idp.signin.assurance import ACR_PASSWORD, AMR_PASSWORD
from idp.terms.errors import TermsVersionChanged
from idp.signin.current import continue_signin_as, current_session, pending_transaction
from idp.signin.current_session import start_session_for
from idp.web import cookies

__all__ = ["bp"]

ERROR_MESSAGES = {
    InvitationEmailMismatch: _l(
        "Use the email address this invitation was sent to. If you want to use another address, ask whoever "
        "invited you to send the invitation there."
    ),
    InvalidEmail: _l("Enter an email address in the correct format, like name@example.ca."),
}


@bp.route("/register/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(registration_rate_limit, methods=["POST"])
def invitation(token: str):
    try:
        found = get_invitation_service().find_by_link_token(token)
    except InvitationError as error:
        return problem(error)
    form = InvitationForm(given_name=found.given_name, family_name=found.family_name)
    if form.validate_on_submit():
        try:
            commit_with_retry(
                lambda: get_registration_service().register_by_link(
                    found, email=form.email.data, given_name=form.given_name.data,
                    family_name=form.family_name.data, locale=page_locale(),
                )
            )
        except (InvitationEmailMismatch, InvalidEmail) as error:
            db.session.rollback()
            add_error(form.email, ERROR_MESSAGES[type(error)])
        else:
            return redirect(url_for(".invitation_sent", token=token), code=303)
    return render_template("registration/invitation.html", form=form, invitation=found), 422 if form.errors else 200


@bp.route("/register/invitation/<token>/sent")
def invitation_sent(token: str):
    """"Check your email": the same page whether or not the address already had an account."""
    try:
        found = get_invitation_service().find_by_link_token(token)
    except InvitationError as error:
        return problem(error)
    hours = max(1, round(current_app.config["REGISTRATION_ACTIVATION_TTL"] / 3600))
    return render_template("registration/check_email.html", email=found.email, activation_hours=hours)


@bp.route("/register/activate/<token>", methods=["GET", "POST"])
@limiter.limit(registration_rate_limit, methods=["POST"])
def activate(token: str):
    """A GET only shows the button; the POST spends the link (PW-10: mail scanners open links)."""
    service = get_registration_service()
    form = ConfirmEmailForm()
    try:
        registration = service.find_activation(token)
        if form.validate_on_submit():
            registration, plain_handle = service.confirm_activation(token)
            db.session.commit()
            response = redirect(url_for(".password"), code=303)
            cookies.set_private_cookie(response, registration_cookie_name(), plain_handle)
            return response
    except RegistrationError as error:
        db.session.rollback()
        return problem(error, step="activate")
    return render_template("registration/activate.html", form=form, email=registration.email)


@bp.route("/register/password", methods=["GET", "POST"])
@limiter.limit(registration_rate_limit, methods=["POST"])
def password():
    """"Almost there" (seed 000, step 3): password, not a robot, terms; then signed in."""
    signed_in = current_session() is not None  # first: it may commit the session's activity
    service = get_registration_service()
    try:
        registration, user = service.find_for_password_step(registration_handle())
    except RegistrationError as error:
        if signed_in and request.method == "GET":
            # Back to this page after finishing (its cookie is gone): nothing is left to do.
            return redirect(url_for("accounts.account"), code=303)
        return problem(error, step="password")
    form = AlmostThereForm()
    if form.is_submitted():
        is_valid = form.validate()
        # First, and committed at once: the answer is spent whatever else the form says.
        is_valid = check_robot(form.altcha) and is_valid
        is_valid = check_new_password_fields(
            form, service.accounts, email=user.email, given_name=user.given_name, family_name=user.family_name
        ) and is_valid
        if is_valid:
            try:
                completed = service.complete_with_password(
                    registration, form.password.data, locale=page_locale(),
                    terms_version=form.terms_version.data or None,
                    ip_address=request.remote_addr, user_agent=request.user_agent.string,
                )
            except TermsVersionChanged:
                db.session.rollback()
                form.accept_terms.data = False  # consent again, to the version now shown
                add_error(form.accept_terms, TERMS_CHANGED)
            except WeakPassword as error:
                db.session.rollback()
                policy = service.accounts.password_policy
                for weakness in error.problems:
                    add_error(form.password, describe_problem(weakness, policy))
            except (AccountAlreadyActive, InvitationNoLongerValid) as error:
                db.session.rollback()
                return problem(error, step="password")
            else:
                return finish_link_registration(completed)
    form.terms_version.data = service.current_terms_version()  # what the page shows now
    response = make_response(
        render_template(
            "registration/password.html", form=form, user=user, invitation=service.invitation_of(registration)
        ),
        422 if form.errors else 200,
    )
    return with_form_targets(response, next_destinations(service, registration, user))


def next_destinations(service: RegistrationService, registration: Registration, user) -> list[str | None]:
    """Where finishing "Almost there" may lead, for the page's form-action."""
    txn = pending_transaction()
    if txn is not None:
        return [(txn.authorization_request or {}).get("redirect_uri")]
    return [service.continue_uri(service.invitation_of(registration))]


def finish_link_registration(completed: Completed) -> Response:
    """Signed in, and on to where the person came from: this browser's pending sign-in (a
    relying party's), else the inviting client's initiate_login_uri, else the account home."""
    txn = pending_transaction()
    if txn is not None:
        response = continue_signin_as(txn, completed.user.id)  # commits
    else:
        response = redirect(completed.continue_uri or url_for("accounts.account"), code=303)
        # amr "pwd": the password just chosen, on top of the address the link proved. Issue 4
        # adds the second factor every complete session will need.
        start_session_for(response, completed.user.id, [AMR_PASSWORD], ACR_PASSWORD)
        db.session.commit()
    cookies.delete_private_cookie(response, registration_cookie_name())
    return response
