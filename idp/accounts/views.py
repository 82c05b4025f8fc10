"""The person's own pages: their account (profile, password, sessions, recent security
activity), the language toggle and help.

Every account page needs a live session; without one it starts a sign-in that comes back
to the same page (begin_local_signin).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import LazyString, format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from idp.accounts.errors import (
    IncorrectCurrentPassword,
    TooManyPasswordAttempts,
    UnlockLinkExpired,
    UnlockLinkInvalid,
    UnlockLinkReplaced,
    UnlockLinkUnknown,
    UnlockLinkUsed,
    WeakPassword,
)
from idp.accounts.forms import ChangePasswordForm, UnlockForm, check_new_password_fields
from idp.accounts.home import AccountHomeService
from idp.accounts.password_text import describe_problem
from idp.accounts.services import AccountService
from idp.accounts.throttle import SigninThrottle
from idp.accounts.unlock import UNLOCK_PATH, UnlockService
from idp.audit import EventTag, SecurityEvent
from idp.context import app_context
from idp.extensions import db, limiter
from idp.i18n import LOCALES
from idp.logout.web import get_logout_service
from idp.mail.services import MailService
from idp.mfa.web import two_factor_status
from idp.orgs.web import organization_summaries
from idp.security.redirects import safe_local_path
from idp.signin.current import ACCOUNT_PATH, begin_local_signin, current_session
from idp.signin.forms import SignoutForm
from idp.web import cookies
from idp.web.text import FORM_TEXT

bp = Blueprint("accounts", __name__)

# Each language named in itself, so a person who reads only that one can find it.
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


UNLOCK_LINK_MESSAGES = {
    UnlockLinkUnknown: _l("This link does not work. Check that you opened the whole link from the email."),
    UnlockLinkExpired: _l(
        "This link has expired: an unlock link works for %(days)s days. "
        "Choose a new password with “Can't sign in?”: that unlocks your account too."
    ),
    UnlockLinkUsed: _l("This link was already used: each link works only once. If your account was unlocked with it, sign in as usual."),
    UnlockLinkReplaced: _l(
        "A newer link was sent after this one, and only the newest link works. Use the link in the most recent email."
    ),
}

ERROR_MESSAGES = {
    IncorrectCurrentPassword: _l("Your current password is incorrect."),
    TooManyPasswordAttempts: _l(
        "Too many incorrect passwords were entered for your account. Wait a few minutes, then try again."
    ),
}

# Each security event as a sentence on the account home (idp.audit.EventTag).
EVENT_SENTENCES: dict[str, LazyString] = {
    EventTag.SIGNIN_SUCCESS: _l("Signed in"),
    EventTag.SIGNIN_FAILURE: _l("Failed sign-in attempt"),
    EventTag.ACCOUNT_LOCKED: _l("Sign-in temporarily blocked after too many failed attempts"),
    EventTag.ACCOUNT_UNLOCK_REQUIRED: _l("Sign-in blocked until unlocked, after repeated failed attempts"),
    EventTag.ACCOUNT_UNLOCKED: _l("Sign-in unlocked"),
    EventTag.ACCOUNT_DISABLED: _l("Account disabled by the service's operators; every session ended"),
    EventTag.ACCOUNT_ENABLED: _l("Account enabled again by the service's operators"),
    EventTag.ACCOUNT_REGISTERED: _l("Account created"),
    EventTag.ACCOUNT_ACTIVATED: _l("Account activated"),
    EventTag.PASSWORD_CHANGED: _l("Password changed"),
    EventTag.PASSWORD_CHANGE_FAILURE: _l("Incorrect current password when changing the password"),
    EventTag.PASSWORD_RESET: _l("Password reset with an emailed link"),
    EventTag.RECOVERY_REQUESTED: _l("Help signing in requested (“Can't sign in?”)"),
    EventTag.SESSIONS_ENDED: _l("Signed out on the other devices"),
    EventTag.SIGNED_OUT_EVERYWHERE: _l("Signed out everywhere, and of every connected service"),
    EventTag.TERMS_ACCEPTED: _l("Terms of use accepted"),
    EventTag.EMAIL_CODE_SENT: _l("Sign-in code sent by email"),
    EventTag.EMAIL_CODE_FAILURE: _l("Incorrect sign-in code entered"),
    EventTag.MAIL_CAPPED: _l("An email was not sent: too many were sent recently"),
    EventTag.MFA_ENROLLED: _l("Two-factor authentication set up, new recovery codes created"),
    EventTag.MFA_METHOD_ADDED: _l("Two-factor method added"),
    EventTag.MFA_METHOD_REMOVED: _l("Two-factor method removed"),
    EventTag.MFA_DEFAULT_CHANGED: _l("Default two-factor method changed"),
    EventTag.RECOVERY_CODES_REGENERATED: _l("New recovery codes created; the earlier ones no longer work"),
    EventTag.PARTNER_LINKED: _l("Sign-in partner linked"),
    EventTag.PARTNER_UNLINKED: _l("Sign-in partner unlinked"),
    EventTag.TOTP_FAILURE: _l("Incorrect authenticator app code entered"),
    EventTag.RECOVERY_CODE_USED: _l("Recovery code used to recover the account"),
    EventTag.MFA_LOST_METHODS_REMOVED: _l(
        "Account recovered with a recovery code: the earlier two-factor methods were removed and the other sessions ended"
    ),
    EventTag.RECOVERY_CODE_FAILURE: _l("Incorrect recovery code entered"),
    # Organizations (issue 11): the events recorded for a person (user_id) are their own.
    EventTag.ORGANIZATION_CREATED: _l("Organization created"),
    EventTag.ORGANIZATION_DISABLED: _l("Your organization was disabled"),
    EventTag.ORGANIZATION_ENABLED: _l("Your organization was enabled again"),
    EventTag.ORGANIZATION_MEMBER_INVITED: _l("You invited a user to your organization"),
    EventTag.ORGANIZATION_INVITATION_WITHDRAWN: _l("You withdrew an invitation to your organization"),
    EventTag.ORGANIZATION_MEMBER_JOINED: _l("You joined your organization"),
    EventTag.ORGANIZATION_MEMBER_ROLE_CHANGED: _l("Your role in your organization changed"),
    EventTag.ORGANIZATION_MEMBER_ENDED: _l("You no longer represent your organization"),
    EventTag.ORGANIZATION_REQUEST_SUBMITTED: _l("You sent a request about your organization's users"),
    EventTag.ORGANIZATION_REQUEST_APPROVED: _l("Your request about your organization's users was approved"),
    EventTag.ORGANIZATION_REQUEST_REJECTED: _l("Your request about your organization's users was rejected"),
    EventTag.ORGANIZATION_CLIENT_ATTACHED: _l("A service was allowed to manage your organization's users"),
    EventTag.ORGANIZATION_CLIENT_DETACHED: _l("A service may no longer manage your organization's users"),
    EventTag.INVITATION_CREATED: _l("A service sent an invitation"),
    EventTag.INVITATION_REVOKED: _l("A service withdrew an invitation"),
    EventTag.INVITATION_ACCEPTED: _l("You opened a document a service sent you"),
    # The operators' console (issue 16): a person sees when the service desk looked at or
    # changed their account; an agent sees their own use of the console.
    EventTag.CONSOLE_ROLE_GRANTED: _l("A role in the operators' console was given to your account"),
    EventTag.CONSOLE_ROLE_REVOKED: _l("A role in the operators' console was taken back from your account"),
    EventTag.CONSOLE_SIGNED_IN: _l("You opened the operators' console"),
    EventTag.CONSOLE_PERSON_SEARCHED: _l("You searched for a person in the operators' console"),
    EventTag.CONSOLE_ACCESS_REFUSED: _l("You tried to open a console page that is not part of your role"),
    EventTag.CONSOLE_PERSON_VIEWED: _l("The service desk looked at your account"),
    EventTag.CONSOLE_ACTIVATION_RESENT: _l("The service desk sent you a new activation email"),
    EventTag.CONSOLE_TWO_FACTOR_RESET: _l("The service desk reset your two-factor authentication after verifying your identity"),
    EventTag.CONSOLE_REQUEST_DECIDED: _l("An operator decided your request about your organization's users"),
    EventTag.CONSOLE_ORGANIZATION_CHANGED: _l("An operator disabled or enabled an organization from the console"),
    EventTag.CONSOLE_KEYS_ROTATED: _l("You rotated the signing keys from the console"),
    EventTag.CONSOLE_MAIL_RETRIED: _l("You sent an email of the outbox again from the console"),
    EventTag.CONSOLE_MAIL_DISCARDED: _l("You discarded an email of the outbox from the console"),
    EventTag.CONSOLE_AUDIT_VIEWED: _l("You looked at the audit log in the console"),
    EventTag.CONSOLE_AUDIT_EXPORTED: _l("You exported the audit log from the console"),
    EventTag.CONSOLE_CLIENT_CREATED: _l("You registered a relying party from the console"),
    EventTag.CONSOLE_CLIENT_UPDATED: _l("You changed a relying party's registration from the console"),
    EventTag.CONSOLE_CLIENT_SECRET_ROTATED: _l("You gave a relying party a new secret from the console"),
    EventTag.CONSOLE_CLIENT_DISABLED: _l("You disabled a relying party from the console"),
    EventTag.CONSOLE_CLIENT_ENABLED: _l("You enabled a relying party again from the console"),
    EventTag.CONSOLE_CLIENT_DELETED: _l("You deleted a relying party from the console"),
    EventTag.CONSOLE_INITIAL_TOKEN_ISSUED: _l("You issued an initial access token for registering relying parties"),
    EventTag.CONSOLE_INITIAL_TOKEN_REVOKED: _l("You revoked an initial access token for registering relying parties"),
}
OTHER_EVENT = _l("Other account activity")


def get_account_service() -> AccountService:
    ctx = app_context()
    return AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords)


def get_account_home_service() -> AccountHomeService:
    ctx = app_context()
    mail = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)
    return AccountHomeService(
        db.session,
        ctx.settings,
        ctx.clock,
        ctx.hasher,
        ctx.passwords,
        mail,
        throttle=SigninThrottle(
            db.session, ctx.settings, ctx.clock, mail=mail, unlock=UnlockService(db.session, ctx.settings, ctx.clock, ctx.hasher)
        ),
        commit=db.session.commit,
    )


def iso_datetime(value: str) -> datetime:
    """Mail context is JSON: an ISO timestamp back to a datetime for format_datetime (the
    password-changed email's date)."""
    return datetime.fromisoformat(value)


# A global, not a context variable: macros imported without context still see it.
bp.record_once(lambda state: state.app.jinja_env.globals.update(form_text=FORM_TEXT))
bp.record_once(lambda state: state.app.jinja_env.filters.update(iso_datetime=iso_datetime))


@bp.app_context_processor
def language_toggle() -> dict:
    """Every page links to the other language at the same address (design.md, Pages)."""
    if not has_request_context():  # mail and commands render without a page around them
        return {}
    locale = str(get_locale())
    other = next(code for code in LOCALES if code != locale)
    here = request.full_path.rstrip("?")
    return {
        "current_locale": locale,
        "other_locale": other,
        "other_language_name": LANGUAGE_NAMES[other],
        "language_toggle_url": url_for("accounts.language", code=other, next=here),
    }


@bp.route("/")
def home():
    return redirect(url_for("accounts.account"), code=303)


@bp.route("/account")
def account():
    user_session = current_session()
    if user_session is None:
        return begin_local_signin(ACCOUNT_PATH)
    service = get_account_home_service()
    user = service.accounts.get(user_session.user_id)
    return render_template(
        "accounts/account.html",
        user=user,
        phone=display_phone(user.phone_number),
        language=LANGUAGE_NAMES.get(user.locale or "", LANGUAGE_NAMES[str(get_locale())]),
        events=[describe_event(event) for event in service.recent_activity(user.id, limit=10)],
        notices=get_flashed_messages(),
        form=SignoutForm(),
        two_factor=two_factor_status(user),
        organizations=organization_summaries(user.id),
        connected_services=[client.name for client in get_logout_service().connected_clients(user_session.id)],
    )


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_CHANGE_RATE_LIMIT"], methods=["POST"])
def change_password():
    user_session = current_session()
    if user_session is None:
        return begin_local_signin(request.path)
    service = get_account_home_service()
    user = service.accounts.get(user_session.user_id)
    form = ChangePasswordForm()
    if form.is_submitted():
        is_valid = form.validate()
        if check_new_password_fields(
            form, service.accounts, email=user.email, given_name=user.given_name, family_name=user.family_name
        ) and is_valid:
            try:
                service.change_password(
                    user.id,
                    keep_session_id=user_session.id,
                    plain_current=form.current_password.data,
                    plain_new=form.password.data,
                    locale=str(get_locale()),
                    ip_address=request.remote_addr,
                    user_agent=request.user_agent.string,
                )
            except (IncorrectCurrentPassword, TooManyPasswordAttempts) as error:
                db.session.commit()  # the failure counts (RATE-01)
                form.current_password.errors.append(ERROR_MESSAGES[type(error)])
            except WeakPassword as error:
                policy = service.accounts.password_policy
                form.password.errors.extend(describe_problem(problem, policy) for problem in error.problems)
            else:
                db.session.commit()
                flash(_l("Your password was changed. You were signed out on your other devices."))
                return redirect(url_for("accounts.account"), code=303)
    return render_template("accounts/password.html", form=form, user=user), 422 if form.errors else 200


@bp.route("/language/<code>")
def language(code: str):
    """Switch language and return to the same page; only local paths (no open redirect)."""
    if code not in LOCALES:
        abort(404)
    response = redirect(safe_local_path(request.args.get("next"), ACCOUNT_PATH), code=303)
    cookies.set_language_cookie(response, code)
    return response


@bp.route(f"{UNLOCK_PATH}/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RECOVERY_RATE_LIMIT"], methods=["POST"])
def unlock(token: str):
    """The emailed unlock link (issue 9): a GET only shows the button, the POST spends the
    link and ends the lock. It signs nobody in: the next page leads to the sign-in."""
    ctx = app_context()
    service = UnlockService(db.session, ctx.settings, ctx.clock, ctx.hasher)
    form = UnlockForm()
    try:
        service.find_link(token)
        if form.validate_on_submit():
            service.unlock_with_link(token, ip_address=request.remote_addr, user_agent=request.user_agent.string)
            db.session.commit()
            return redirect(url_for("accounts.unlocked"), code=303)
    except UnlockLinkInvalid as error:
        db.session.rollback()
        days = max(1, ctx.settings.SIGNIN_UNLOCK_LINK_TTL // 86400)
        message = str(UNLOCK_LINK_MESSAGES[type(error)]) % {"days": days}
        status = 404 if isinstance(error, UnlockLinkUnknown) else 410
        return without_referrer(render_template("accounts/unlock_invalid.html", message=message), status)
    return without_referrer(render_template("accounts/unlock.html", form=form, token=token), 422 if form.errors else 200)


@bp.route("/signin/unlocked")
def unlocked():
    return render_template("accounts/unlocked.html")


def without_referrer(body: str, status: int):
    """The page's address holds the link's token: no Referer carries it anywhere."""
    response = make_response(body, status)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/help")
def help_page():
    return render_template("accounts/help.html")


def display_phone(e164: str | None) -> str | None:
    """A stored E.164 number in the international format people read (+1 514-555-0100)."""
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@dataclass(frozen=True)
class EventRow:
    sentence: str
    at: str
    ip_address: str | None


def describe_event(event: SecurityEvent) -> EventRow:
    return EventRow(
        sentence=str(EVENT_SENTENCES.get(event.tag, OTHER_EVENT)), at=when(event.created_at), ip_address=event.ip_address
    )


def when(moment: datetime) -> str:
    """Date and time in the page's language, with the time zone named (BABEL_DEFAULT_TIMEZONE)."""
    return format_datetime(moment, "long")
