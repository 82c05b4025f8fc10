"""\"Can't sign in?\" and the password reset pages (issue 3; seed 000, step 06).

The reset link's token leaves the address bar at once: opening /signin/reset/<token> checks
it (without spending it), keeps it in a short-lived private cookie and continues at
/signin/reset, so the token is not in the history, in a Referer, or on screen (REC-05).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from idp.accounts.errors import InvalidEmail, WeakPassword
from idp.accounts.forms import check_new_password_fields
from idp.accounts.password_text import describe_problem
from idp.accounts.throttle import SigninThrottle
from idp.context import app_context
from idp.extensions import db, limiter
from idp.mail.services import MailService
from idp.mfa.errors import FactorNotAvailable, InvalidCode
from idp.recovery.errors import (
    ResetLinkExpired,
    ResetLinkInvalid,
    ResetLinkReplaced,
    ResetLinkUnknown,
    ResetLinkUsed,
)
from idp.recovery.forms import EMAIL_FORMAT, CantSignInForm, ResetPasswordForm
from idp.recovery.services import HELP_PATH, RESET_PATH, RecoveryService
from idp.registration.links import LinkRegistrationService
from idp.robot.web import check_robot
from idp.web import cookies

bp = Blueprint("recovery", __name__)

RESET_COOKIE = "passerelle_reset"

ERROR_MESSAGES = {
    InvalidEmail: EMAIL_FORMAT,
    ResetLinkUnknown: _l(
        "This link does not work. Check that you opened the whole link from the email, or ask for a new one."
    ),
    ResetLinkExpired: _l("This link has expired: a reset link works for %(minutes)s minutes. Ask for a new one."),
    ResetLinkUsed: _l(
        "This link was already used to change your password: each link works only once. "
        "If you need to change your password again, ask for a new link."
    ),
    ResetLinkReplaced: _l(
        "A newer link was sent after this one, and only the newest link works. "
        "Use the link in the most recent email, or ask for a new one."
    ),
}


SECOND_FACTOR_NEEDED = _l(
    "Your account is protected by two-factor authentication: enter the code your authenticator app shows now, "
    "or one of your recovery codes."
)
SECOND_FACTOR_MESSAGES = {
    InvalidCode: _l("This code is incorrect, or was already used. Enter the code your app shows now, or a recovery code."),
    FactorNotAvailable: _l("This code is incorrect, or was already used. Enter the code your app shows now, or a recovery code."),
}
# For an account whose only second methods are security keys (and email): no app to speak of.
RECOVERY_CODE_NEEDED = _l("Your account is protected by a security key: enter one of your recovery codes.")
WRONG_RECOVERY_CODE = _l("This recovery code is incorrect, or was already used. Enter another of your recovery codes.")


def get_recovery_service() -> RecoveryService:
    ctx = app_context()
    mail = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)
    registration = LinkRegistrationService(db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords, mail)
    throttle = SigninThrottle(db.session, ctx.settings, ctx.clock, mail=mail)
    return RecoveryService(
        db.session,
        ctx.settings,
        ctx.clock,
        ctx.hasher,
        ctx.passwords,
        mail,
        resend_activation=registration.resend_activation,
        clear_failures=throttle.clear_failures,
    )


def reset_cookie_name() -> str:
    return cookies.host_prefixed(RESET_COOKIE, cookies.is_secure())


def page_locale() -> str:
    return str(get_locale())


@bp.route(HELP_PATH, methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RECOVERY_RATE_LIMIT"], methods=["POST"])
def cant_sign_in():
    """The same page answers every address (ASVS 6.3.8): only the mailbox learns more."""
    form = CantSignInForm()
    if form.is_submitted():
        is_valid = form.validate()
        if check_robot(form.altcha) and is_valid:
            try:
                get_recovery_service().request_help(
                    form.email.data,
                    locale=page_locale(),
                    ip_address=request.remote_addr,
                    user_agent=request.user_agent.string,
                )
            except InvalidEmail as error:
                form.email.errors.append(ERROR_MESSAGES[type(error)])
            else:
                db.session.commit()
                return render_template("recovery/help_sent.html", email=form.email.data.strip())
    return render_template("recovery/cant_sign_in.html", form=form), 422 if form.errors else 200


@bp.route(f"{RESET_PATH}/<token>")
def reset_link(token: str) -> Response:
    """Opening the emailed link: check it, move its token into a cookie, continue without it."""
    try:
        get_recovery_service().find_reset(token)
    except ResetLinkInvalid as error:
        return invalid_link(error)
    response = redirect(url_for("recovery.reset"), code=303)
    settings = app_context().settings
    cookies.set_private_cookie(response, reset_cookie_name(), token, max_age=settings.PASSWORD_RESET_TTL)
    # Applies to the redirected request too: the token's URL is never anybody's Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route(RESET_PATH, methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RECOVERY_RATE_LIMIT"], methods=["POST"])
def reset():
    service = get_recovery_service()
    plain_token = request.cookies.get(reset_cookie_name())
    try:
        _reset, user = service.find_reset(plain_token)
    except ResetLinkInvalid as error:
        return invalid_link(error)
    form = ResetPasswordForm()
    guard = get_reset_guard()
    if form.is_submitted():
        is_valid = form.validate()
        is_password_ok = check_new_password_fields(
            form, service.accounts, email=user.email, given_name=user.given_name, family_name=user.family_name
        ) and is_valid
        # The second factor last: a refused password does not cost the person a recovery code.
        if is_password_ok and (not guard.is_required(user) or _second_factor_passes(guard, user, form)):
            try:
                service.reset_password(
                    plain_token,
                    form.password.data,
                    locale=page_locale(),
                    ip_address=request.remote_addr,
                    user_agent=request.user_agent.string,
                )
            except ResetLinkInvalid as error:  # another browser spent it a moment ago (REC-06)
                db.session.rollback()
                return invalid_link(error)
            except WeakPassword as error:
                policy = service.accounts.password_policy
                form.password.errors.extend(describe_problem(problem, policy) for problem in error.problems)
            else:
                db.session.commit()
                response = redirect(url_for("recovery.reset_done"), code=303)
                cookies.delete_private_cookie(response, reset_cookie_name())
                # Every session ended server-side; forget this browser's handle too.
                cookies.delete_private_cookie(response, cookies.session_cookie_name())
                return response
    return render_template(
        "recovery/reset.html", form=form, user=user,
        asks_second_factor=guard.is_required(user), accepts_app_code=guard.accepts_app_code(user),
    ), 422 if form.errors else 200


def get_reset_guard():
    from idp.mfa.recovery import RecoveryCodeService
    from idp.mfa.reset_guard import ResetGuard
    from idp.mfa.web import get_totp_service, get_webauthn_service
    from idp.signin.current import get_throttle

    ctx = app_context()
    recovery = RecoveryCodeService(db.session, ctx.settings, ctx.clock, ctx.hasher, get_throttle())
    return ResetGuard(get_totp_service(), recovery, get_webauthn_service().has_credentials)


def _second_factor_passes(guard, user, form: ResetPasswordForm) -> bool:
    """Check the app code or recovery code typed on the reset page; on failure the form says
    why (the failure counts against the account, and is committed)."""
    from idp.mfa.base import FactorContext
    from idp.mfa.errors import MfaError
    from idp.mfa.web import APP_ERROR_MESSAGES

    has_app = guard.accepts_app_code(user)
    if not (form.second_factor.data or "").strip():
        form.second_factor.errors.append(SECOND_FACTOR_NEEDED if has_app else RECOVERY_CODE_NEEDED)
        return False
    context = FactorContext(
        transaction_id=None, locale=page_locale(), ip_address=request.remote_addr, user_agent=request.user_agent.string,
    )
    try:
        guard.check(user, form.second_factor.data, context)
    except MfaError as error:
        db.session.commit()  # the failure count and its event
        if has_app:
            form.second_factor.errors.append(SECOND_FACTOR_MESSAGES.get(type(error), APP_ERROR_MESSAGES.get(type(error))))
        else:
            form.second_factor.errors.append(WRONG_RECOVERY_CODE)
        return False
    return True


@bp.route(f"{RESET_PATH}/done")
def reset_done():
    """After a reset: sign in again, with the second factor too (never signed in from here)."""
    return render_template("recovery/reset_done.html")


def invalid_link(error: ResetLinkInvalid) -> Response:
    """A link that cannot be used: say why, and offer to send a new one."""
    minutes = app_context().settings.PASSWORD_RESET_TTL // 60
    message = str(ERROR_MESSAGES[type(error)]) % {"minutes": minutes}
    response = make_response(render_template("recovery/reset_invalid.html", message=message), 400)
    cookies.delete_private_cookie(response, reset_cookie_name())
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
