"""The sign-in as the rest of the IdP sees it: the contract the OIDC endpoints call.

This is the Flask side of the sign-in transaction: cookies, redirects and the per-request
session cache. Decisions stay in idp.signin.services and idp.signin.flow.

Contract (see each docstring): current_session(), begin_signin(), finished_transaction(),
is_denied(), consume_transaction(), end_current_session(). The session itself (finding,
starting and ending it) is idp.signin.current_session.
"""

from __future__ import annotations


from flask import (
    Response,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from idp.accounts.models import User
from idp.accounts.throttle import SigninThrottle
from idp.accounts.unlock import UnlockService
from idp.context import app_context
from idp.extensions import db
from idp.i18n import first_supported
from idp.mail.services import MailService
from idp.security.redirects import is_safe_local_path, safe_local_path
from idp.signin.assurance import (
    ACR_ORDER,
    ACR_PASSWORD_EMAIL,
    satisfies,
)
from idp.signin.flow import (
    PARTNER,
    RECOVERY_CODE,
    SESSION_REUSED,
    TERMS_DECLINED,
    Step,
    next_step,
    second_factors_used,
)
from idp.signin.current_session import (
    current_session,
    end_current_session,  # noqa: F401  (re-exported: part of the contract)
    get_session_service,  # noqa: F401  (re-exported: the views' session service)
    start_session,
    step_up_session,
)
from idp.signin.flow import is_denied as is_denied  # re-exported: part of the contract
from idp.signin.models import SigninTransaction, UserSession
from idp.signin.services import SigninService
from idp.terms.services import TermsService
from idp.web import cookies
from idp.web.headers import leave_site_policy

# steps_done key: this transaction already produced its session, so finishing twice
# (a reload, a double submit) does not start a second one.
SESSION_STARTED = "session_started"
ACCOUNT_PATH = "/account"


def get_mail_service() -> MailService:
    ctx = app_context()
    return MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)


def get_throttle() -> SigninThrottle:
    """The account failure counter, with mail so that a lock is told to the owner (with an
    unlock link when the lock waits for one)."""
    ctx = app_context()
    unlock = UnlockService(db.session, ctx.settings, ctx.clock, ctx.hasher)
    return SigninThrottle(db.session, ctx.settings, ctx.clock, mail=get_mail_service(), unlock=unlock)


def get_signin_service() -> SigninService:
    ctx = app_context()
    return SigninService(
        db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords, get_throttle(), commit=db.session.commit
    )


def begin_signin(
    *,
    authorization_request: dict[str, str] | None,
    client_id: str | None,
    return_to: str | None,
    prompt: str | None,
    max_age: int | None,
    login_hint: str | None,
    requested_acr: str | None,
    ui_locale: str | None,
    session: UserSession | None,
    force_login: bool,
    needs_consent: bool,
) -> Response:
    """Start a sign-in and send the browser to its first step (303). Commits.

    authorization_request holds the validated OAuth parameters that oidc.resume replays once
    the flow is done. With a session and force_login False, authentication counts as done
    and only the remaining steps (consent) run. return_to is kept only if it is a local path.
    """
    locale = first_supported(ui_locale)
    txn, plain_handle = get_signin_service().begin(
        authorization_request=authorization_request,
        client_id=client_id,
        return_to=return_to if is_safe_local_path(return_to) else None,
        prompt=prompt,
        max_age=max_age,
        login_hint=login_hint,
        requested_acr=requested_acr,
        ui_locale=locale,
        authenticated_user_id=session.user_id if session is not None and not force_login else None,
        session_amr=list(session.amr or []) if session is not None and not force_login else (),
        needs_consent=needs_consent,
    )
    db.session.commit()
    response = continue_signin(txn)
    # A local sign-in that a live session finished at once needs none; a handle already
    # rotated on the way (a step the stored state satisfied) is the one to keep.
    if txn.completed_at is None and not _sets_signin_cookie(response):
        cookies.set_private_cookie(response, cookies.signin_cookie_name(), plain_handle)
    if locale:
        cookies.set_language_cookie(response, locale)
    return response


def begin_local_signin(return_to: str | None, session: UserSession | None = None) -> Response:
    """Start a sign-in for the IdP's own pages (no client); a live session finishes it at once."""
    return begin_signin(
        authorization_request=None, client_id=None, return_to=return_to, prompt=None, max_age=None,
        login_hint=None, requested_acr=None, ui_locale=None, session=session, force_login=False,
        needs_consent=False,
    )


def pending_transaction() -> SigninTransaction | None:
    """The transaction named by this browser's cookie, if it is still running.

    Its pages speak ui_locales through the language cookie begin_signin() set, which the
    language toggle may then change.
    """
    return get_signin_service().find(request.cookies.get(cookies.signin_cookie_name()))


def has_signin_cookie() -> bool:
    return cookies.signin_cookie_name() in request.cookies


def has_finished_signin_cookie() -> bool:
    """The cookie names a sign-in that already finished: there is nothing of it to resume."""
    return get_signin_service().is_completed(request.cookies.get(cookies.signin_cookie_name()))


def render_step(template: str, txn: SigninTransaction, status: int = 200, **context) -> Response:
    """Render a step's page. When its form may end an authorization (the redirects after the
    POST lead to the client, then wherever the client sends the browser), the page's CSP
    leaves form-action out (idp.web.headers.content_security_policy)."""
    response = make_response(render_template(template, **context), status)
    return leave_site_policy(response) if txn.authorization_request else response


STEP_ENDPOINTS = {
    Step.PASSWORD: "signin.password",
    Step.SECOND_FACTOR: "mfa.second_factor",
    Step.ENROLMENT: "mfa.setup",
    Step.TERMS: "terms.accept",
    Step.CONSENT: "signin.consent",
}


def continue_signin(txn: SigninTransaction) -> Response:
    """Send the browser to the step this transaction needs next, or finish it (303)."""
    step = _settle(txn)
    if step is Step.DONE:
        return _finish(txn)
    response = redirect(url_for(STEP_ENDPOINTS[step]), code=303)
    _rotate_handle(txn, response)
    return response


def _rotate_handle(txn: SigninTransaction, response: Response) -> None:
    """After a completed factor the browser gets a new sign-in handle and the old one stops
    working (SigninService.rotate_handle). Commits."""
    plain_handle = get_signin_service().rotate_handle(txn)
    if plain_handle is not None:
        db.session.commit()
        cookies.set_private_cookie(response, cookies.signin_cookie_name(), plain_handle)


def forget_signin(response: Response) -> Response:
    """The sign-in of this browser ended (resumed at the client, or found spent): delete its
    cookie so a later /signin begins afresh instead of calling it expired. A response that
    begins another sign-in (it sets the cookie) keeps its new one."""
    if not _sets_signin_cookie(response):
        cookies.delete_private_cookie(response, cookies.signin_cookie_name())
    return response


def _sets_signin_cookie(response: Response) -> bool:
    prefix = cookies.signin_cookie_name() + "="
    return any(header.startswith(prefix) for header in response.headers.getlist("Set-Cookie"))


def _settle(txn: SigninTransaction) -> Step:
    """next_step(), after marking done the steps stored state already satisfies, so nobody
    sees a page with nothing to do: the two-factor set-up when the person has one (or
    MFA_REQUIRED is off), unless a recovery code was used; the terms step when the person
    already accepted the version in force. Commits what it records."""
    step = next_step(txn)
    if step is Step.ENROLMENT and RECOVERY_CODE not in txn.steps_done:
        user = db.session.get(User, txn.user_id)
        is_optional = not app_context().settings.MFA_REQUIRED and not _requires_two_factor(txn)
        # A partner's sign-in has no set-up step: a step-up then asks for a Passerelle factor.
        is_partner = PARTNER in txn.steps_done
        if user is not None and (user.mfa_enrolled_at is not None or is_optional or is_partner):
            get_signin_service().record_step(txn, Step.ENROLMENT.value)
            db.session.commit()
            step = next_step(txn)
    if step is Step.TERMS:
        ctx = app_context()
        if TermsService(db.session, ctx.settings, ctx.clock).has_accepted_current(txn.user_id):
            get_signin_service().record_step(txn, Step.TERMS.value)
            db.session.commit()
            step = next_step(txn)
    return step


def _requires_two_factor(txn: SigninTransaction) -> bool:
    """The client requires more than a password and an emailed code: someone without a
    two-factor method sets one up even where MFA_REQUIRED is off."""
    return txn.requested_acr in ACR_ORDER and not satisfies(ACR_PASSWORD_EMAIL, txn.requested_acr)


def _finish(txn: SigninTransaction) -> Response:
    """The flow is done: start or keep the session, then resume the request or go back."""
    new_handle = None
    if TERMS_DECLINED in txn.steps_done:
        pass  # declined the terms: nobody is signed in (idp.terms.views)
    elif (Step.PASSWORD.value in txn.steps_done or PARTNER in txn.steps_done) and SESSION_STARTED not in txn.steps_done:
        new_handle = start_session(txn)
    elif SESSION_REUSED in txn.steps_done and not _is_reused_session_alive(txn):
        # The session that vouched for this person ended meanwhile: ask again.
        get_signin_service().forget_identity(txn)
        db.session.commit()
        return redirect(url_for(STEP_ENDPOINTS[Step.PASSWORD]), code=303)
    elif SESSION_REUSED in txn.steps_done and second_factors_used(txn) and SESSION_STARTED not in txn.steps_done:
        new_handle = step_up_session(txn)
    if new_handle is not None:
        get_signin_service().record_step(txn, SESSION_STARTED)
    if txn.authorization_request is not None:
        response = redirect(url_for("oidc.resume"), code=303)
        _rotate_handle(txn, response)
    else:
        # A local sign-in has nobody else to consume it.
        get_signin_service().complete(txn)
        response = redirect(safe_local_path(txn.return_to, ACCOUNT_PATH), code=303)
        cookies.delete_private_cookie(response, cookies.signin_cookie_name())
    db.session.commit()
    if new_handle is not None:
        cookies.set_private_cookie(response, cookies.session_cookie_name(), new_handle)
    return response


def _is_reused_session_alive(txn: SigninTransaction) -> bool:
    user_session = current_session()
    return user_session is not None and user_session.user_id == txn.user_id


def finished_transaction() -> SigninTransaction | None:
    """The transaction of this browser's cookie if its flow is done (or consent was denied)
    and it was not consumed yet; None otherwise. is_denied(txn) tells the two apart."""
    txn = pending_transaction()
    if txn is None or next_step(txn) is not Step.DONE:
        return None
    return txn


def consume_transaction(txn: SigninTransaction) -> bool:
    """Mark the transaction completed so it cannot resume twice. True for the one caller
    that won; the conditional UPDATE is atomic. The caller commits with what it issues."""
    return get_signin_service().complete(txn)


# Registration (idp/registration) signs people in without the sign-in pages: the three
# functions below are its whole use of this module.


def continue_signin_as(txn: SigninTransaction, user_id: int) -> Response:
    """Carry on with this browser's pending sign-in (a relying party's, begun before the
    person registered) as a person who just set their password: the password step counts as
    done now and the flow decides what remains (second factor, terms, consent). Commits."""
    txn.user_id = user_id
    get_signin_service().record_step(txn, Step.PASSWORD.value, replacing=(SESSION_REUSED,))
    db.session.commit()
    return continue_signin(txn)


def begin_signin_with_hint(login_hint: str, return_to: str | None = None) -> Response:
    """Send the browser to the sign-in page with this address filled in (303). This browser's
    pending sign-in carries on if nobody is identified in it yet (a relying party's, begun
    before the person registered); otherwise a local sign-in begins. Commits."""
    txn = pending_transaction()
    if txn is not None and txn.user_id is None:
        txn.login_hint = login_hint[:320]
        db.session.commit()
        return continue_signin(txn)
    return begin_signin(
        authorization_request=None, client_id=None, return_to=return_to, prompt=None, max_age=None,
        login_hint=login_hint, requested_acr=None, ui_locale=None, session=None, force_login=False,
        needs_consent=False,
    )
