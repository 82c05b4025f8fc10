"""The sign-in as the rest of the IdP sees it: the contract the OIDC endpoints call.

This is the Flask side of the sign-in transaction: cookies, redirects and the per-request
session cache. Decisions stay in idp.signin.services and idp.signin.flow.

Contract (see each docstring): current_session(), begin_signin(), finished_transaction(),
is_denied(), consume_transaction(), end_current_session().
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Response,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from idp.accounts.models import User
from idp.accounts.throttle import SigninThrottle
from idp.accounts.unlock import UnlockService
from idp.audit import EventTag, record_event
from idp.context import app_context
from idp.extensions import db
from idp.i18n import first_supported
from idp.mail.services import MailService
from idp.oidc.revocation import hand_over_grants
from idp.security.redirects import is_safe_local_path, safe_local_path
from idp.signin.assurance import (
    ACR_ORDER,
    ACR_PASSWORD_EMAIL,
    AMR_PASSWORD,
    acr_for,
    satisfies,
    with_mfa,
)
from idp.signin.flow import (
    PARTNER,
    RECOVERY_CODE,
    SESSION_REUSED,
    TERMS_DECLINED,
    Step,
    factor_amr,
    next_step,
    partner_amr,
    partner_level,
    second_factors_used,
)
from idp.signin.flow import is_denied as is_denied  # re-exported: part of the contract
from idp.signin.models import SigninTransaction, UserSession
from idp.signin.services import SessionService, SigninService
from idp.terms.services import TermsService
from idp.web import cookies
from idp.web.headers import leave_site_policy

# steps_done key: this transaction already produced its session, so finishing twice
# (a reload, a double submit) does not start a second one.
SESSION_STARTED = "session_started"
ACCOUNT_PATH = "/account"
_NO_SESSION = object()


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
    return SigninService(db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords, get_throttle())


def get_session_service() -> SessionService:
    ctx = app_context()
    return SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher)


def current_session() -> UserSession | None:
    """The live IdP session of this browser, or None (absent, ended, idle, expired).

    Cached for the request. Commits when it records activity (at most once a minute), so
    call it before changing anything else in the request.
    """
    cached = g.get("idp_current_session", _NO_SESSION)
    if cached is not _NO_SESSION:
        return cached
    user_session = get_session_service().find_active(request.cookies.get(cookies.session_cookie_name()))
    if user_session is not None and db.session.is_modified(user_session):
        db.session.commit()  # the idle timeout counts from this activity
    g.idp_current_session = user_session
    return user_session


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
        new_handle = _start_session(txn)
    elif SESSION_REUSED in txn.steps_done and not _is_reused_session_alive(txn):
        # The session that vouched for this person ended meanwhile: ask again.
        get_signin_service().forget_identity(txn)
        db.session.commit()
        return redirect(url_for(STEP_ENDPOINTS[Step.PASSWORD]), code=303)
    elif SESSION_REUSED in txn.steps_done and second_factors_used(txn) and SESSION_STARTED not in txn.steps_done:
        new_handle = _step_up_session(txn)
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


def authentication_methods(txn: SigninTransaction) -> tuple[list[str], datetime]:
    """The amr values of the steps this transaction actually did, and when authentication
    finished (the last of them): what its session and ID tokens claim."""
    if PARTNER in txn.steps_done and Step.PASSWORD.value not in txn.steps_done:
        amr = partner_amr(txn)
        times = [datetime.fromisoformat(txn.steps_done[PARTNER])]
    else:
        amr = [AMR_PASSWORD]
        times = [datetime.fromisoformat(txn.steps_done[Step.PASSWORD.value])]
    for factor in second_factors_used(txn):
        amr.extend(value for value in factor_amr(factor, txn.steps_done) if value not in amr)
        times.append(datetime.fromisoformat(txn.steps_done[factor]))
    return with_mfa(amr), max(times)


def _start_session(txn: SigninTransaction) -> str:
    """A new authentication always gets a new session and handle: the old cookie, even
    the same person's, stops working (session fixation, SES-03)."""
    sessions = get_session_service()
    previous = current_session()
    if previous is not None:
        sessions.end(previous.id)
    amr, auth_time = authentication_methods(txn)
    acr = max(acr_for(amr), partner_level(txn) or acr_for(amr), key=ACR_ORDER.index)
    user_session, plain_handle = sessions.create(txn.user_id, amr, acr, auth_time, request.user_agent.string)
    if previous is not None and previous.user_id == txn.user_id:
        hand_over_grants(sessions, previous.id, user_session.id)
    get_signin_service().record_step(txn, SESSION_STARTED)
    ctx = app_context()
    record_event(
        db.session, ctx.clock, EventTag.SIGNIN_SUCCESS, user_id=txn.user_id,
        ip_address=request.remote_addr, user_agent=request.user_agent.string,
        amr=amr, acr=acr, client_id=txn.client_id,
    )
    g.idp_current_session = user_session
    return plain_handle


def _step_up_session(txn: SigninTransaction) -> str:
    """A step-up finished: a new session (new handle, ASVS 7.2.4: a raised privilege gets a
    new session) carries the reused session's methods plus this transaction's factors, the
    level they reach and a new auth_time (OIDC Core §2: when the person last authenticated)."""
    sessions = get_session_service()
    previous = current_session()
    amr = list(previous.amr or [])
    times = []
    for factor in second_factors_used(txn):
        amr.extend(value for value in factor_amr(factor, txn.steps_done) if value not in amr)
        times.append(datetime.fromisoformat(txn.steps_done[factor]))
    amr = with_mfa(amr)
    acr = acr_for(amr)
    sessions.end(previous.id)
    user_session, plain_handle = sessions.create(txn.user_id, amr, acr, max(times), request.user_agent.string)
    hand_over_grants(sessions, previous.id, user_session.id)
    get_signin_service().record_step(txn, SESSION_STARTED)
    ctx = app_context()
    record_event(
        db.session, ctx.clock, EventTag.SIGNIN_SUCCESS, user_id=txn.user_id,
        ip_address=request.remote_addr, user_agent=request.user_agent.string,
        amr=amr, acr=acr, client_id=txn.client_id, step_up=True,
    )
    g.idp_current_session = user_session
    return plain_handle


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


def end_current_session(response: Response) -> None:
    """End this browser's IdP session server-side (if any) and delete its cookie. Commits."""
    user_session = current_session()
    if user_session is not None:
        get_session_service().end(user_session.id)
        db.session.commit()
    g.idp_current_session = None
    cookies.delete_private_cookie(response, cookies.session_cookie_name())


# Registration (idp/registration) signs people in without the sign-in pages: the three
# functions below are its whole use of this module.


def start_session_for(response: Response, user_id: int, amr: list[str], acr: str) -> None:
    """Start a session for a person who proved who they are outside a sign-in transaction
    (a registration's activation link and new password) and set its cookie on response.

    Like a sign-in, the browser's previous session ends (session fixation, SES-03). Call
    current_session() before changing anything else in the request; the caller commits.
    """
    sessions = get_session_service()
    previous = current_session()
    if previous is not None:
        sessions.end(previous.id)
    user_session, plain_handle = sessions.create(user_id, amr, acr, app_context().clock(), request.user_agent.string)
    g.idp_current_session = user_session
    cookies.set_private_cookie(response, cookies.session_cookie_name(), plain_handle)


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
