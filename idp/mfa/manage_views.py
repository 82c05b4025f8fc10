"""/account/two-factor: manage two-factor after a fresh two-factor sign-in (seed 002).

"Manage two-factor authentication" on the account page leads here. Without a second factor
in the last MFA_MANAGE_FRESHNESS seconds the person signs in again (password and second
factor), then lands on the "authentication successful" page with the choices.
"""

from __future__ import annotations

from flask import Response, flash, get_flashed_messages, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.accounts.models import User
from idp.extensions import db, limiter
from idp.mfa import totp
from idp.mfa.base import FactorContext
from idp.mfa.errors import FactorNotAvailable, LastMethod, MfaError
from idp.mfa.forms import AppCodeForm, ResendCodeForm, SecurityKeySetupForm
from idp.mfa.security_key_views import KEY_ERROR_MESSAGES
from idp.mfa.views import bp
from idp.mfa.web import (
    APP_ERROR_MESSAGES,
    fresh_person,
    get_enrolment_service,
    get_manage_service,
    get_totp_service,
    get_webauthn_service,
)
from idp.signin.web import signin_rate_limit
from idp.signin.flow import EMAIL_CODE, TOTP, WEBAUTHN

MANAGE_PATH = "/account/two-factor"
MANAGE_ERRORS = {
    LastMethod: _l("You cannot remove your only method: two-factor authentication is required. Add another method first."),
    FactorNotAvailable: _l("This method is not set up on your account."),
}


def context() -> FactorContext:
    return FactorContext(
        transaction_id=None, locale=str(get_locale()), ip_address=request.remote_addr,
        user_agent=request.user_agent.string,
    )


def _fresh_person() -> tuple[User | None, Response | None]:
    """The signed-in person after a fresh two-factor sign-in, or the sign-in that comes back here."""
    return fresh_person(MANAGE_PATH)


def _codes_page(codes: list[str], regenerated: bool = False) -> Response:
    """The recovery codes, once: after a first set-up, or new ones that replace the old."""
    return render_template(
        "mfa/recovery_codes.html", codes=codes, download="\r\n".join(codes) + "\r\n", form=None,
        continue_url=url_for("mfa.manage"), regenerated=regenerated,
    )


@bp.route(MANAGE_PATH)
def manage():
    user, elsewhere = _fresh_person()
    if elsewhere is not None:
        return elsewhere
    service = get_manage_service()
    methods = service.methods(user)
    available = [name for name in (TOTP, EMAIL_CODE) if name not in methods]  # keys: several allowed
    return render_template(
        "mfa/manage.html", user=user, methods=methods, available=available, keys=service.security_keys(user),
        status=get_enrolment_service().status(user, tuple(methods)), form=ResendCodeForm(),
        notices=get_flashed_messages(with_categories=True),
    )


def _change(action, regenerated: bool = False) -> Response:
    """Run one change (after the freshness check and the CSRF token), then back to the page."""
    user, elsewhere = _fresh_person()
    if elsewhere is not None:
        return elsewhere
    if not ResendCodeForm().validate_on_submit():
        return redirect(url_for("mfa.manage"), code=303)
    try:
        result = action(get_manage_service(), user)
    except MfaError as error:
        db.session.rollback()
        flash(str(MANAGE_ERRORS.get(type(error), MANAGE_ERRORS[FactorNotAvailable])), "error")
        return redirect(url_for("mfa.manage"), code=303)
    db.session.commit()
    if isinstance(result, list):
        return _codes_page(result, regenerated)
    return redirect(url_for("mfa.manage"), code=303)


@bp.route(MANAGE_PATH + "/default", methods=["POST"])
def manage_default():
    method = request.form.get("method", "")
    return _change(lambda service, user: service.set_default(user, method, context()))


@bp.route(MANAGE_PATH + "/remove", methods=["POST"])
def manage_remove():
    method = request.form.get("method", "")
    return _change(lambda service, user: service.remove(user, method, context()))


@bp.route(MANAGE_PATH + "/remove-key", methods=["POST"])
def manage_remove_key():
    """Remove one security key or passkey, named on the page by its nickname."""
    key_id = request.form.get("key", type=int)
    return _change(lambda service, user: service.remove_key(user, key_id, context()))


@bp.route(MANAGE_PATH + "/email", methods=["POST"])
def manage_add_email():
    return _change(lambda service, user: service.added(user, EMAIL_CODE, context()))


@bp.route(MANAGE_PATH + "/recovery-codes", methods=["POST"])
def manage_recovery_codes():
    return _change(lambda service, user: service.regenerate_codes(user, context()), regenerated=True)


@bp.route(MANAGE_PATH + "/app", methods=["GET", "POST"])
@limiter.limit(signin_rate_limit, methods=["POST"])
def manage_add_app():
    """Add an authenticator app: scan, then type a current code (as at set-up)."""
    user, elsewhere = _fresh_person()
    if elsewhere is not None:
        return elsewhere
    totp_service = get_totp_service()
    form = AppCodeForm()
    if form.validate_on_submit():
        try:
            totp_service.confirm_enrolment(user, form.code.data, context())
        except MfaError as error:
            db.session.commit()
            form.code.errors.append(APP_ERROR_MESSAGES[type(error)])
        else:
            codes = get_manage_service().added(user, TOTP, context())
            db.session.commit()
            if codes:
                return _codes_page(codes)
            flash(_("Your authenticator app is set up."), "success")
            return redirect(url_for("mfa.manage"), code=303)
    try:
        pending = totp_service.begin_enrolment(user)
    except FactorNotAvailable:
        return redirect(url_for("mfa.manage"), code=303)
    db.session.commit()
    return render_template(
        "mfa/setup_app.html", form=form, secret=pending.grouped_secret, action=url_for("mfa.manage_add_app"),
        qr_svg=totp.qr_svg(pending.uri, title=_("QR code to scan with your authenticator app")),
        back_url=url_for("mfa.manage"),
    ), 422 if form.errors else 200


@bp.route(MANAGE_PATH + "/security-key", methods=["GET", "POST"])
@limiter.limit(signin_rate_limit, methods=["POST"])
def manage_security_key():
    """Add a security key or passkey (the same ceremony as at set-up)."""
    user, elsewhere = _fresh_person()
    if elsewhere is not None:
        return elsewhere
    service = get_webauthn_service()
    form = SecurityKeySetupForm()
    if form.validate_on_submit():
        try:
            service.complete_registration(user, form.credential.data, form.nickname.data or "", context())
        except MfaError as error:
            db.session.commit()  # the spent challenge
            form.credential.errors.append(KEY_ERROR_MESSAGES[type(error)])
        else:
            codes = get_manage_service().added(user, WEBAUTHN, context())
            db.session.commit()
            if codes:
                return _codes_page(codes)
            flash(_("Your security key is set up."), "success")
            return redirect(url_for("mfa.manage"), code=303)
    return render_template(
        "mfa/setup_security_key.html", form=form, action=url_for("mfa.manage_security_key"),
        options_url=url_for("mfa.manage_security_key_options"), back_url=url_for("mfa.manage"),
    ), 422 if form.errors else 200


@bp.route(MANAGE_PATH + "/security-key/options", methods=["POST"])
@limiter.limit(signin_rate_limit)
def manage_security_key_options():
    """A new challenge for navigator.credentials.create(), the person's keys excluded."""
    user, elsewhere = _fresh_person()
    if elsewhere is not None:
        return jsonify(error=_("Sign in again to continue.")), 401
    options = get_webauthn_service().begin_registration(user, context())
    db.session.commit()
    return jsonify(publicKey=options)
