"""Security keys and passkeys (WebAuthn) at sign-in and during the set-up (issue 4).

Each page works in two steps: its script (static/js/webauthn.js, no inline script) asks an
options endpoint for a challenge (a POST with the CSRF token, answered in JSON), lets the
browser talk to the key, then sends the key's answer with the page's form. The form's
answer is an ordinary one: on success, where the sign-in goes next (continue_signin's
303) or the recovery codes; on failure the page again, with a translated message. Without
JavaScript or WebAuthn the page says so and points to the other methods.
"""

from __future__ import annotations

from flask import Response, jsonify, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from idp.extensions import db, limiter
from idp.mfa.errors import (
    ChallengeNotFound,
    MfaError,
    SecurityKeyAlreadyRegistered,
    SecurityKeyCloned,
    SecurityKeyRejected,
    UnknownSecurityKey,
)
from idp.mfa.forms import SecurityKeyForm, SecurityKeySetupForm
from idp.mfa.setup_views import _finish, offered_methods
from idp.mfa.views import _pending_step, bp, factor_context
from idp.mfa.web import ERROR_MESSAGES, get_webauthn_service
from idp.signin.current import (
    continue_signin,
    get_signin_service,
    render_step,
)
from idp.signin.flow import RECOVERY_CODE, WEBAUTHN, WEBAUTHN_SYNCED, Step
from idp.signin.web import signin_rate_limit

KEY_ERROR_MESSAGES = {
    **ERROR_MESSAGES,
    SecurityKeyRejected: _l("Your security key could not be verified. Try again, or use another method."),
    ChallengeNotFound: _l("This attempt expired or was already used. Select the button to try again."),
    UnknownSecurityKey: _l(
        "This security key is not registered to your account. Use a key you set up for Passerelle, or another method."
    ),
    SecurityKeyCloned: _l(
        "This security key was refused because it may have been copied. Use another method, then get help."
    ),
    SecurityKeyAlreadyRegistered: _l("This security key is already set up. Use another key, or choose another method."),
}


def _json_elsewhere(elsewhere) -> tuple[Response, int]:
    """An options request from a page whose step is over: where the browser belongs now."""
    location = getattr(elsewhere, "headers", {}).get("Location") if isinstance(elsewhere, Response) else None
    return jsonify(error=_("This page is no longer valid. Reload it and try again."), redirect=location), 409


# --- Sign-in with a key ------------------------------------------------------------------


@bp.route("/signin/security-key", methods=["GET", "POST"])
@limiter.limit(signin_rate_limit, methods=["POST"])
def security_key():
    """Use a security key or passkey: the form carries the key's answer to this sign-in's
    challenge."""
    txn, user, elsewhere = _pending_step()
    if elsewhere is not None:
        return elsewhere
    service = get_webauthn_service()
    if not service.has_credentials(user.id):
        return redirect(url_for("mfa.second_factor"), code=303)
    form = SecurityKeyForm()
    if form.validate_on_submit():
        try:
            credential = service.verify(user.id, form.credential.data, factor_context(txn))
        except MfaError as error:
            db.session.commit()  # the spent challenge, the failure count and the event
            form.credential.errors.append(KEY_ERROR_MESSAGES[type(error)])
        else:
            get_signin_service().record_step(txn, WEBAUTHN)
            if credential.backup_eligible:
                get_signin_service().record_step(txn, WEBAUTHN_SYNCED)
            db.session.commit()
            return continue_signin(txn)
    return render_step("mfa/security_key.html", txn, 422 if form.errors else 200, form=form)


@bp.route("/signin/security-key/options", methods=["POST"])
@limiter.limit(signin_rate_limit)
def security_key_options():
    """A new challenge and the person's keys, for navigator.credentials.get()."""
    txn, user, elsewhere = _pending_step()
    if elsewhere is not None:
        return _json_elsewhere(elsewhere)
    try:
        options = get_webauthn_service().begin_authentication(user, factor_context(txn))
    except MfaError as error:
        return jsonify(error=str(KEY_ERROR_MESSAGES[type(error)])), 409
    db.session.commit()
    return jsonify(publicKey=options)


# --- Set-up ---------------------------------------------------------------------------------


@bp.route("/signin/setup/security-key", methods=["GET", "POST"])
@limiter.limit(signin_rate_limit, methods=["POST"])
def setup_security_key():
    """Name the key (optional), then register it; done, the recovery codes follow."""
    txn, user, elsewhere = _pending_step(Step.ENROLMENT)
    if elsewhere is not None:
        return elsewhere
    if WEBAUTHN not in offered_methods(txn):
        return redirect(url_for("mfa.setup"), code=303)
    service = get_webauthn_service()
    form = SecurityKeySetupForm()
    if form.validate_on_submit():
        try:
            service.complete_registration(
                user, form.credential.data, form.nickname.data or "", factor_context(txn),
                replaces_lost_keys=RECOVERY_CODE in txn.steps_done,
            )
        except MfaError as error:
            db.session.commit()  # the spent challenge
            form.credential.errors.append(KEY_ERROR_MESSAGES[type(error)])
        else:
            # Registering proves only that the person holds a key made just now: this
            # sign-in's level stays what its password and code proved (see docs/oidc.md).
            return _finish(txn, user, WEBAUTHN)
    return render_step("mfa/setup_security_key.html", txn, 422 if form.errors else 200, form=form)


@bp.route("/signin/setup/security-key/options", methods=["POST"])
@limiter.limit(signin_rate_limit)
def setup_security_key_options():
    """A new challenge for navigator.credentials.create(), the person's keys excluded."""
    txn, user, elsewhere = _pending_step(Step.ENROLMENT)
    if elsewhere is not None:
        return _json_elsewhere(elsewhere)
    options = get_webauthn_service().begin_registration(user, factor_context(txn))
    db.session.commit()
    return jsonify(publicKey=options)
