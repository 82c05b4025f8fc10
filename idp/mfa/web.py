"""Two-factor for a request: the services built from the app's context, the account
home's summary, the error messages and the fresh two-factor check, for mfa's own pages and
for the other features' (recovery's reset page, the account home, the organization pages).
Kept out of the views modules so that other features' views never import a views module.
"""

from __future__ import annotations

from flask import Response
from flask_babel import lazy_gettext as _l

from idp.accounts.models import User
from idp.context import app_context
from idp.extensions import db
from idp.mfa.account_recovery import AccountRecoveryService
from idp.mfa.authenticator_app import TotpService
from idp.mfa.enrolment import EnrolmentService
from idp.mfa.errors import (
    AccountLocked,
    AttemptTooEarly,
    CodeAttemptsExhausted,
    CodeExpired,
    CodeNotDelivered,
    CodeNotSent,
    DailyCodeLimitReached,
    FactorNotAvailable,
    InvalidCode,
    NoLiveCode,
)
from idp.mfa.factors import build_factors
from idp.mfa.manage import ManageService
from idp.mfa.recovery import RecoveryCodeService
from idp.mfa.security_key import WebAuthnService
from idp.mfa.services import EmailCodeService, MfaService
from idp.signin.current import (
    begin_signin,
    current_session,
    get_mail_service,
    get_throttle,
)
from idp.signin.flow import WEBAUTHN
from idp.signin.sessions import SessionService

ERROR_MESSAGES = {
    InvalidCode: _l("The code is incorrect. Check the code in the most recent email and try again."),
    CodeExpired: _l("This code has expired. Request a new code."),
    CodeNotDelivered: _l("We could not send your code in time. Request a new code."),
    CodeAttemptsExhausted: _l("Too many incorrect codes: for your security, this code no longer works. Request a new code."),
    NoLiveCode: _l("This code no longer works. Request a new code."),
    AttemptTooEarly: _l("Too many incorrect attempts. Wait a few seconds, then try again."),
    AccountLocked: _l(
        "Too many incorrect attempts. For your security, signing in to this account is paused for a while. "
        "We sent you an email that explains what to do."
    ),
    DailyCodeLimitReached: _l("You have requested too many codes today. Try again tomorrow, or get help."),
    CodeNotSent: _l("We could not send a code: too many emails were sent to your address recently. Try again later."),
    FactorNotAvailable: _l("This way of confirming your identity is not available for your account."),
}
# The app and recovery codes have no "request a new code": their wrong-code words differ.
APP_ERROR_MESSAGES = {
    **ERROR_MESSAGES,
    InvalidCode: _l("The code is incorrect. Enter the code your app shows now; each code works once."),
}


def get_email_code_service() -> EmailCodeService:
    ctx = app_context()
    return EmailCodeService(db.session, ctx.settings, ctx.clock, ctx.hasher, get_mail_service(), get_throttle())


def get_mfa_service() -> MfaService:
    ctx = app_context()
    factors = build_factors(
        db.session, ctx.settings, ctx.clock, ctx.hasher, get_mail_service(), get_throttle(), ctx.secret_box
    )
    return MfaService(db.session, ctx.settings, ctx.clock, factors)


def get_account_recovery_service() -> AccountRecoveryService:
    ctx = app_context()
    mail, throttle = get_mail_service(), get_throttle()
    return AccountRecoveryService(
        db.session, ctx.settings, ctx.clock,
        RecoveryCodeService(db.session, ctx.settings, ctx.clock, ctx.hasher, throttle, mail),
        WebAuthnService(db.session, ctx.settings, ctx.clock, ctx.hasher, throttle),
        SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher),
        mail,
    )


def get_totp_service() -> TotpService:
    ctx = app_context()
    return TotpService(db.session, ctx.settings, ctx.clock, ctx.secret_box, get_throttle())


def get_webauthn_service() -> WebAuthnService:
    ctx = app_context()
    return WebAuthnService(db.session, ctx.settings, ctx.clock, ctx.hasher, get_throttle())


def get_enrolment_service() -> EnrolmentService:
    ctx = app_context()
    recovery = RecoveryCodeService(db.session, ctx.settings, ctx.clock, ctx.hasher, get_throttle())
    return EnrolmentService(db.session, ctx.settings, ctx.clock, recovery, get_mail_service())


def two_factor_status(user):
    """The account home's two-factor summary (methods, each key, recovery codes left)."""
    methods = tuple(factor.name for factor in get_mfa_service().enrolled(user)) if user.mfa_enrolled_at else ()
    keys = tuple(get_webauthn_service().summaries(user.id)) if WEBAUTHN in methods else ()
    return get_enrolment_service().status(user, methods, keys)


def get_manage_service() -> ManageService:
    ctx = app_context()
    recovery = RecoveryCodeService(db.session, ctx.settings, ctx.clock, ctx.hasher, get_throttle())
    return ManageService(
        db.session, ctx.settings, ctx.clock, get_mfa_service(), get_enrolment_service(), recovery,
        get_mail_service(), get_webauthn_service(),
    )


def fresh_person(return_to: str) -> tuple[User | None, Response | None]:
    """The signed-in person if their sign-in used a second factor less than
    MFA_MANAGE_FRESHNESS seconds ago (ManageService.is_fresh); otherwise the response that
    signs them in again (password and second factor) and comes back to return_to, a local
    path. For managing two-factor and the organization pages."""
    user_session = current_session()
    user = db.session.get(User, user_session.user_id) if user_session is not None else None
    if user is not None and get_manage_service().is_fresh(user_session):
        return user, None
    return None, begin_signin(
        authorization_request=None, client_id=None, return_to=return_to, prompt="login", max_age=None,
        login_hint=user.email if user is not None else None, requested_acr=None, ui_locale=None,
        session=None, force_login=True, needs_consent=False,
    )
