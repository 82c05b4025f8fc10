"""Setting up two-factor during a sign-in (issue 4, seed 002 "Configurer votre méthode"):
choose a method, prove it, then keep the recovery codes shown once.

The sign-in transaction sends people here (Step.ENROLMENT) when MFA_REQUIRED and they have
no method yet, or after a recovery code. The emailed code is offered only when this
sign-in already proved the address with one.
"""

from __future__ import annotations

from flask import Response, redirect, url_for
from flask_babel import gettext as _

from idp.extensions import db, limiter
from idp.mfa import totp
from idp.mfa.enrolment import SETUP_METHODS
from idp.mfa.errors import FactorNotAvailable, MfaError
from idp.mfa.forms import CHOOSE_A_METHOD, AppCodeForm, ResendCodeForm, SetupChoiceForm
from idp.mfa.views import _pending_step, bp, factor_context
from idp.mfa.web import APP_ERROR_MESSAGES, get_enrolment_service, get_totp_service
from idp.signin.current import continue_signin, get_signin_service, pending_transaction, render_step
from idp.signin.flow import EMAIL_CODE, RECOVERY_CODE, TOTP, WEBAUTHN, Step
from idp.signin.web import signin_rate_limit, transaction_ended


def offered_methods(txn) -> list[str]:
    return [method for method in SETUP_METHODS if method != EMAIL_CODE or EMAIL_CODE in txn.steps_done]


@bp.route("/signin/setup", methods=["GET", "POST"])
def setup():
    txn, user, elsewhere = _pending_step(Step.ENROLMENT)
    if elsewhere is not None:
        return elsewhere
    methods = offered_methods(txn)
    form = SetupChoiceForm()
    if form.validate_on_submit():
        if form.method.data not in methods:
            form.method.errors.append(CHOOSE_A_METHOD)
        elif form.method.data == TOTP:
            return redirect(url_for("mfa.setup_app"), code=303)
        elif form.method.data == WEBAUTHN:
            return redirect(url_for("mfa.setup_security_key"), code=303)
        else:
            return _finish(txn, user, EMAIL_CODE)
    return render_step("mfa/setup.html", txn, 422 if form.errors else 200, form=form, methods=methods)


@bp.route("/signin/setup/app", methods=["GET", "POST"])
@limiter.limit(signin_rate_limit, methods=["POST"])
def setup_app():
    """Scan the QR code (or type the key), then type a current code to prove it works."""
    txn, user, elsewhere = _pending_step(Step.ENROLMENT)
    if elsewhere is not None:
        return elsewhere
    service = get_totp_service()
    form = AppCodeForm()
    if form.validate_on_submit():
        try:
            service.confirm_enrolment(user, form.code.data, factor_context(txn))
        except MfaError as error:
            db.session.commit()
            form.code.errors.append(APP_ERROR_MESSAGES[type(error)])
        else:
            # Typing a code from the key this page just showed proves the app works, not that
            # the person held it before: the sign-in's level stays what it proved so far
            # (a client that requires two-factor then asks for a code, idp.signin.flow).
            return _finish(txn, user, TOTP)
    try:
        pending = service.begin_enrolment(user, replaces_lost_app=RECOVERY_CODE in txn.steps_done)
    except FactorNotAvailable:
        return redirect(url_for("mfa.setup"), code=303)
    db.session.commit()
    qr = totp.qr_svg(pending.uri, title=_("QR code to scan with your authenticator app"))
    return render_step(
        "mfa/setup_app.html", txn, 422 if form.errors else 200, form=form, secret=pending.grouped_secret, qr_svg=qr,
    )


def _finish(txn, user, method: str) -> Response:
    """Set-up done: record it, then show the recovery codes, once, in this response."""
    codes = get_enrolment_service().complete(user, method, factor_context(txn))
    get_signin_service().record_step(txn, Step.ENROLMENT.value)
    db.session.commit()
    return render_step(
        "mfa/recovery_codes.html", txn, codes=codes, download="\r\n".join(codes) + "\r\n", form=ResendCodeForm(),
    )


@bp.route("/signin/setup/done", methods=["POST"])
def setup_done():
    """"I saved my codes": on with the sign-in."""
    txn = pending_transaction()
    if txn is None or not ResendCodeForm().validate_on_submit():
        return transaction_ended()
    return continue_signin(txn)


