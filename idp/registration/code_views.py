"""Registration pages, the code journey (seed 001): /register/code (form) → /register/confirm
(the emailed verification code) → /register/confirmed ("Your account is ready") →
/register/signin → the sign-in page with the address filled in.
"""

from __future__ import annotations

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from idp.accounts.errors import AccountError, InvalidEmail
from idp.accounts.forms import check_new_password_fields
from idp.extensions import db, limiter
from idp.invitations.errors import (
    InvitationAlreadyUsed,
    InvitationError,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
)
from idp.mail.delivery import get_mail_service
from idp.registration.codes import CodeRegistrationService
from idp.registration.errors import (
    AccountAlreadyActive,
    CodeResendTooSoon,
    InvalidPhoneNumber,
    InvalidVerificationCode,
    InvitationNoLongerValid,
    RegistrationError,
)
from idp.registration.forms import PHONE_INVALID, CodeRegistrationForm, ConfirmCodeForm, NewCodeForm
from idp.registration.models import Registration
from idp.registration.web import (
    add_error,
    bp,
    code_rate_limit,
    commit_with_retry,
    get_code_registration_service,
    page_locale,
    problem,
    registration_cookie_name,
    registration_handle,
    registration_rate_limit,
)
from idp.robot.web import check_robot
from idp.signin.current import ACCOUNT_PATH, begin_signin_with_hint, get_signin_service, pending_transaction
from idp.web import cookies

INVITATION_CODE_MESSAGES = {
    # A wrong code and a right code sent to another address read the same (no probing).
    InvitationNotFound: _l(
        "This invitation code does not match this email address. Check both against your invitation email."
    ),
    InvitationExpired: _l("This invitation code has expired. Ask whoever invited you to send a new invitation."),
    InvitationRevoked: _l("This invitation was withdrawn. If you think this is a mistake, contact whoever invited you."),
    InvitationAlreadyUsed: _l(
        "An account was already created with this invitation. Sign in with your email address and password."
    ),
}
# The same words as the sign-in code page's (idp.mfa.views).
CODE_NOT_SENT_IN_TIME = _l("We could not send your code in time. Request a new code.")
ERROR_MESSAGES = {
    InvalidEmail: _l("Enter an email address in the correct format, like name@example.ca."),
    InvalidPhoneNumber: PHONE_INVALID,
    InvalidVerificationCode: _l(
        "This code is incorrect or has expired. Check the code in the latest email we sent you, or request a new code."
    ),
}


@bp.route("/register/code", methods=["GET", "POST"])
@limiter.limit(registration_rate_limit, methods=["POST"])
def code():
    form = CodeRegistrationForm()
    if form.is_submitted():
        is_valid = form.validate()
        # First, and committed at once: the answer is spent whatever else the form says.
        is_valid = check_robot(form.altcha) and is_valid
        is_valid = check_new_password_fields(
            form, get_code_registration_service().accounts, email=form.email.data,
            given_name=form.given_name.data, family_name=form.family_name.data,
        ) and is_valid
        if is_valid:
            response = submit_code_registration(form)
            if response is not None:
                return response
    form.terms_version.data = get_code_registration_service().current_terms_version()  # what the page shows
    txn = pending_transaction()
    client = get_signin_service().find_client(txn.client_id) if txn is not None else None
    return render_template("registration/code.html", form=form, client=client), 422 if form.errors else 200


def submit_code_registration(form: CodeRegistrationForm) -> Response | None:
    """Create the pending account and send its code; None when a field got an error."""
    service = get_code_registration_service()
    try:
        _, plain_handle = commit_with_retry(
            lambda: service.register_by_code(
                plain_code=form.code.data, email=form.email.data, given_name=form.given_name.data,
                family_name=form.family_name.data, phone_number=form.phone_number.data,
                plain_password=form.password.data, locale=page_locale(),
                terms_version=form.terms_version.data or service.current_terms_version(),
            )
        )
    except InvitationError as error:
        db.session.rollback()
        add_error(form.code, INVITATION_CODE_MESSAGES.get(type(error), INVITATION_CODE_MESSAGES[InvitationNotFound]))
    except InvalidPhoneNumber as error:
        db.session.rollback()
        add_error(form.phone_number, ERROR_MESSAGES[type(error)])
    except AccountError:  # InvalidName, InvalidEmail: the form's checks make these unlikely
        db.session.rollback()
        add_error(form.email, ERROR_MESSAGES[InvalidEmail])
    else:
        response = redirect(url_for(".confirm"), code=303)
        cookies.set_private_cookie(response, registration_cookie_name(), plain_handle)
        return response
    return None


def browser_code_registration(service: CodeRegistrationService) -> Registration | None:
    """The code registration this browser started, while it waits for its code."""
    try:
        return service.find_for_confirm_step(registration_handle())
    except RegistrationError:
        return None


def is_completed_here(service: CodeRegistrationService) -> bool:
    """This browser's registration is already complete."""
    try:
        service.find_completed(registration_handle())
    except RegistrationError:
        return False
    return True


def render_confirm(form, new_code_form, registration, notice=None, wait_seconds=None, status=200):
    return (
        render_template(
            "registration/confirm.html", form=form, new_code_form=new_code_form, registration=registration,
            notice=notice, wait_seconds=wait_seconds,
            cooldown=current_app.config["REGISTRATION_CODE_RESEND_COOLDOWN"],
            code_minutes=max(1, round(current_app.config["REGISTRATION_CODE_TTL"] / 60)),
            code_tries=current_app.config["REGISTRATION_CODE_MAX_ATTEMPTS"],
        ),
        status,
    )


@bp.route("/register/confirm", methods=["GET", "POST"])
@limiter.limit(code_rate_limit, methods=["POST"])
def confirm():
    """"Confirm your registration" (seed 001, step 2): the address and the emailed code."""
    service = get_code_registration_service()
    registration = browser_code_registration(service)
    if registration is None and request.method == "GET" and is_completed_here(service):
        return redirect(url_for(".confirmed"), code=303)  # back to this page after confirming
    email = registration.email if registration is not None else None
    form = ConfirmCodeForm(email=email)
    new_code_form = NewCodeForm(prefix="new-code", email=email)
    if form.validate_on_submit():
        try:
            completed = service.confirm_code(
                form.email.data, form.verification_code.data,
                ip_address=request.remote_addr, user_agent=request.user_agent.string,
            )
        except InvalidVerificationCode as error:
            db.session.commit()  # the attempt counts (REGISTRATION_CODE_MAX_ATTEMPTS)
            add_error(form.verification_code, _code_error(error, registration, form.email.data))
        except (AccountAlreadyActive, InvitationNoLongerValid) as error:
            db.session.rollback()
            return problem(error, step="confirm")
        else:
            plain_handle = service.new_handle_for(completed.registration)
            db.session.commit()
            response = redirect(url_for(".confirmed"), code=303)
            cookies.set_private_cookie(response, registration_cookie_name(), plain_handle)
            return response
    return render_confirm(form, new_code_form, registration, status=422 if form.errors else 200)


def _code_error(error: InvalidVerificationCode, registration: Registration | None, email: str | None):
    """Only the browser that registered learns that its code could not be sent before it
    expired (idp.mail drops it): a typed address alone learns nothing (no enumeration)."""
    if (
        registration is not None and registration.user_id is not None
        and (email or "").strip().lower() == registration.email
        and get_mail_service().was_dropped(registration.user_id, "registration-code", registration.secret_sent_at)
    ):
        return CODE_NOT_SENT_IN_TIME
    return ERROR_MESSAGES[type(error)]


@bp.route("/register/confirm/new-code", methods=["POST"])
@limiter.limit(code_rate_limit)
def new_code():
    """"Request a new code", at most once per REGISTRATION_CODE_RESEND_COOLDOWN. Only the
    browser that registered hears about the cooldown; a typed address gets one answer."""
    service = get_code_registration_service()
    registration = browser_code_registration(service)
    email = registration.email if registration is not None else None
    new_code_form = NewCodeForm(prefix="new-code")
    form = ConfirmCodeForm(formdata=None, email=email)
    notice, wait_seconds = None, None
    if registration is not None:
        try:
            service.request_new_code(registration=registration)
            notice = "sent"
        except CodeResendTooSoon as error:
            notice, wait_seconds = "wait", error.seconds
        db.session.commit()
    elif new_code_form.validate_on_submit() and new_code_form.email.data:
        service.request_new_code(email=new_code_form.email.data)
        db.session.commit()
        notice = "sent_if_waiting"
        form = ConfirmCodeForm(formdata=None, email=new_code_form.email.data)
    else:
        add_error(new_code_form.email, _l("Enter your email address."))
        return render_confirm(form, new_code_form, registration, status=422)
    return render_confirm(form, new_code_form, registration, notice=notice, wait_seconds=wait_seconds)


@bp.route("/register/confirmed")
def confirmed():
    """"Your account is ready": the person is asked to sign in (seed 001, step 3)."""
    try:
        registration = get_code_registration_service().find_completed(registration_handle())
    except RegistrationError:
        return redirect(url_for("signin.password"), code=303)
    return render_template("registration/confirmed.html", email=registration.email)


@bp.route("/register/signin")
def signin():
    """On to the sign-in page with the address filled in: this browser's pending sign-in (a
    relying party's) if any, else the inviting client's initiate_login_uri, else a local one."""
    service = get_code_registration_service()
    try:
        registration = service.find_completed(registration_handle())
    except RegistrationError:
        return redirect(url_for("signin.password"), code=303)
    user = service.accounts.get(registration.user_id) if registration.user_id is not None else None
    continue_uri = None
    if pending_transaction() is None and user is not None:
        continue_uri = service.continue_uri(service.invitation_of(registration))
    if continue_uri:
        response = redirect(continue_uri, code=303)
    else:
        response = begin_signin_with_hint(registration.email, return_to=ACCOUNT_PATH)
    cookies.delete_private_cookie(response, registration_cookie_name())
    return response
