"""The second-factor step of the sign-in: the person's default factor, the other methods,
the emailed code, the authenticator app and "Recover account" (seed 001, seed 002).

design.md, The sign-in transaction: each step view does its one job and hands back to
continue_signin(). /signin/second-factor sends the person to their default factor;
/signin/methods lists the others. Setting up two-factor is in idp.mfa.setup_views.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from idp.accounts.models import User
from idp.context import app_context
from idp.extensions import db, limiter
from idp.mfa.base import FactorContext
from idp.mfa.email_code import EmailCodeFactor, mask_email
from idp.mfa.errors import (
    FactorNotAvailable,
    InvalidCode,
    MfaError,
    ResendTooSoon,
)
from idp.mfa.forms import AppCodeForm, EmailCodeForm, RecoveryCodeForm, ResendCodeForm
from idp.mfa.web import (
    APP_ERROR_MESSAGES,
    ERROR_MESSAGES,
    get_account_recovery_service,
    get_email_code_service,
    get_mfa_service,
    get_totp_service,
)
from idp.signin.current import (
    continue_signin,
    get_signin_service,
    pending_transaction,
    render_step,
)
from idp.signin.flow import (
    RECOVERY_CODE,
    SESSION_REUSED,
    STEP_UP_UNAVAILABLE,
    TOTP,
    Step,
    is_step_up_pending,
    next_step,
)
from idp.signin.models import SigninTransaction
from idp.signin.web import signin_rate_limit, transaction_ended

bp = Blueprint("mfa", __name__)

RECOVERY_ERROR_MESSAGES = {
    **ERROR_MESSAGES,
    InvalidCode: _l("This recovery code is incorrect or was already used. Check it and try again, or try another of your codes."),
}
# The same words as registration's "Request a new code" (idp/registration).
RESEND_TOO_SOON = _l("We sent you a code only a moment ago. Wait %(seconds)s seconds, then request a new code.")


def factor_context(txn: SigninTransaction) -> FactorContext:
    return FactorContext(
        transaction_id=txn.id, locale=str(get_locale()),
        ip_address=request.remote_addr, user_agent=request.user_agent.string,
    )


def _pending_step(step: Step = Step.SECOND_FACTOR) -> tuple[SigninTransaction | None, User | None, Response | tuple | None]:
    """The transaction and person of a sign-in waiting for this step, or the response that
    sends the browser where it belongs instead."""
    txn = pending_transaction()
    if txn is None:
        return None, None, transaction_ended()
    if next_step(txn) is not step:
        return None, None, continue_signin(txn)
    user = db.session.get(User, txn.user_id)
    if user is None:
        return None, None, transaction_ended()
    return txn, user, None


def required_level(txn: SigninTransaction, user: User | None = None) -> str | None:
    """The level a step-up must reach, or None outside a step-up. Someone who has not set up
    two-factor first proves their address (the emailed code) and sets up a method; the
    step-up comes after (idp.signin.flow)."""
    done = txn.steps_done or {}
    if user is not None and user.mfa_enrolled_at is None and not {Step.ENROLMENT.value, SESSION_REUSED} & set(done):
        return None
    return txn.requested_acr if is_step_up_pending(txn) else None


@bp.route("/signin/second-factor")
def second_factor():
    txn, user, elsewhere = _pending_step()
    if elsewhere is not None:
        return elsewhere
    try:
        factor = get_mfa_service().preferred(user, required_level(txn, user))
    except FactorNotAvailable:
        if required_level(txn, user) is None and user.mfa_enrolled_at is not None:
            # Recovered, then stopped before setting up a new method: only a recovery code is left.
            return redirect(url_for("mfa.recover"), code=303)
        if required_level(txn, user) is None:
            return transaction_ended()
        return render_step("mfa/stronger_method.html", txn, form=ResendCodeForm())
    return redirect(url_for(factor.endpoint), code=303)


@bp.route("/signin/second-factor/unavailable", methods=["POST"])
def step_up_unavailable():
    """"Return to the service" from the stronger-method page: the client learns its
    requirement was not met (unmet_authentication_requirements)."""
    txn, user, elsewhere = _pending_step()
    if elsewhere is not None:
        return elsewhere
    if ResendCodeForm().validate_on_submit() and required_level(txn, user) is not None:
        get_signin_service().record_step(txn, STEP_UP_UNAVAILABLE)
        db.session.commit()
    return continue_signin(txn)


def _render_email_code(txn, user, form, *, status=200, problem=None, notice=None) -> Response:
    ttl = app_context().settings.MFA_EMAIL_CODE_TTL
    return render_step(
        "mfa/email_code.html", txn, status,
        form=form, resend_form=ResendCodeForm(), masked_email=mask_email(user.email),
        minutes=max(1, int(ttl) // 60), problem=problem, notice=notice,
    )


@bp.route("/signin/code", methods=["GET", "POST"])
@limiter.limit(signin_rate_limit, methods=["POST"])
def email_code():
    """Seed 001: "enter this code within 3 minutes and select Validate the code". The first
    visit sends the code; a reload does not send another."""
    txn, user, elsewhere = _pending_step()
    if elsewhere is not None:
        return elsewhere
    factor = EmailCodeFactor(get_email_code_service())
    if not factor.is_enrolled(user):
        return redirect(url_for("mfa.second_factor"), code=303)
    form = EmailCodeForm()
    if form.validate_on_submit():
        try:
            factor.verify(user, form.code.data, factor_context(txn))
        except MfaError as error:
            db.session.commit()  # the attempt, a burned code, the failure count and events
            form.code.errors.append(ERROR_MESSAGES[type(error)])
        else:
            get_signin_service().record_step(txn, factor.name)
            db.session.commit()
            return continue_signin(txn)
    problem = notice = None
    if request.method == "GET":
        try:
            if factor.begin(user, factor_context(txn)) is not None:
                db.session.commit()
        except MfaError as error:
            db.session.commit()
            problem = ERROR_MESSAGES[type(error)]
        if request.args.get("sent") == "1" and problem is None:
            notice = "sent"
    return _render_email_code(txn, user, form, status=422 if form.errors else 200, problem=problem, notice=notice)


@bp.route("/signin/code/resend", methods=["POST"])
@limiter.limit(signin_rate_limit)
def resend_email_code():
    """"Request a new code": it replaces the previous one (30 s apart, a daily cap)."""
    txn, user, elsewhere = _pending_step()
    if elsewhere is not None:
        return elsewhere
    form = ResendCodeForm()
    if form.validate_on_submit():
        try:
            get_email_code_service().resend(user, factor_context(txn))
        except ResendTooSoon as error:
            db.session.commit()
            problem = RESEND_TOO_SOON % {"seconds": error.seconds_left}
            return _render_email_code(txn, user, EmailCodeForm(formdata=None), status=429, problem=problem)
        except MfaError as error:
            db.session.commit()
            return _render_email_code(txn, user, EmailCodeForm(formdata=None), status=429, problem=ERROR_MESSAGES[type(error)])
        db.session.commit()
    return redirect(url_for("mfa.email_code", sent="1"), code=303)


def _verify_factor(txn, user, name: str, form, messages) -> Response | None:
    """Check the form's code with the named factor; on success record the step and go on.
    Returns None when the page must be shown again (form errors filled in)."""
    if not form.validate_on_submit():
        return None
    try:
        factor = get_mfa_service().get(name, user)
        factor.verify(user, form.code.data, factor_context(txn))
    except MfaError as error:
        db.session.commit()  # the failure count and events
        form.code.errors.append(messages[type(error)])
        return None
    get_signin_service().record_step(txn, name)
    db.session.commit()
    return continue_signin(txn)


@bp.route("/signin/app", methods=["GET", "POST"])
@limiter.limit(signin_rate_limit, methods=["POST"])
def authenticator_app():
    """The code from the person's authenticator app (RFC 6238)."""
    txn, user, elsewhere = _pending_step()
    if elsewhere is not None:
        return elsewhere
    form = AppCodeForm()
    done = _verify_factor(txn, user, TOTP, form, APP_ERROR_MESSAGES)
    if done is not None:
        return done
    return render_step("mfa/app_code.html", txn, 422 if form.errors else 200, form=form,
                       just_set_up=get_totp_service().was_just_confirmed(user.id))


@bp.route("/signin/methods")
def methods():
    """"Use another method": every method the person set up, and "Recover account"."""
    txn, user, elsewhere = _pending_step()
    if elsewhere is not None:
        return elsewhere
    service = get_mfa_service()
    factors = service.enrolled(user, required_level(txn, user))
    return render_step("mfa/methods.html", txn, factors=factors, can_recover=service.can_recover(user))


@bp.route("/signin/recover", methods=["GET", "POST"])
@limiter.limit(signin_rate_limit, methods=["POST"])
def recover():
    """Seed 002, "Récupérer le compte": one recovery code replaces the methods the person
    lost (listed on the page first, idp.mfa.account_recovery), then they set up two-factor
    again."""
    txn, user, elsewhere = _pending_step()
    if elsewhere is not None:
        return elsewhere
    service = get_account_recovery_service()
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        try:
            service.recover(user, form.code.data, factor_context(txn))
        except MfaError as error:
            db.session.commit()  # the failure count and events
            form.code.errors.append(RECOVERY_ERROR_MESSAGES[type(error)])
        else:
            get_signin_service().record_step(txn, RECOVERY_CODE)
            db.session.commit()
            return continue_signin(txn)
    return render_step(
        "mfa/recover.html", txn, 422 if form.errors else 200,
        form=form, can_recover=service.codes.is_enrolled(user), lost=service.lost_methods(user),
    )
