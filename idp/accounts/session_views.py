"""The person's sessions (issue 9, SES-06) and « Se déconnecter partout » (issue 14): the
list of their signed-in devices, signing out on the other devices, and signing out
everywhere, of every connected service too. Routes of the accounts blueprint.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l

from idp.accounts.devices import describe_user_agent
from idp.accounts.forms import EndOtherSessionsForm
from idp.accounts.views import bp, get_account_home_service, when
from idp.extensions import db
from idp.logout.web import frontchannel_urls, signed_out_page
from idp.signin.current import begin_local_signin, current_session
from idp.signin.models import UserSession
from idp.web import cookies


@bp.route("/account/sessions")
def sessions():
    user_session = current_session()
    if user_session is None:
        return begin_local_signin(request.path)
    live = get_account_home_service().live_sessions(user_session.user_id)
    return render_template(
        "accounts/sessions.html",
        sessions=[describe_session(each, user_session) for each in live],
        has_others=any(each.id != user_session.id for each in live),
        notices=get_flashed_messages(),
        form=EndOtherSessionsForm(),
    )


@bp.route("/account/sessions/end-others", methods=["POST"])
def end_other_sessions():
    """Sign out everywhere else (SES-06): every other session of this person ends now."""
    user_session = current_session()
    if user_session is None:
        return begin_local_signin(url_for("accounts.sessions"))
    form = EndOtherSessionsForm()
    if form.validate_on_submit():
        get_account_home_service().end_other_sessions(
            user_session.user_id,
            user_session.id,
            ip_address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
        db.session.commit()
        flash(_l("You were signed out on every other device."))
    return redirect(url_for("accounts.sessions"), code=303)


@bp.route("/account/sign-out-everywhere", methods=["GET", "POST"])
def sign_out_everywhere():
    """« Se déconnecter partout » (issue 14): asks first (a GET changes nothing), then ends
    every session of the person, this one too, and every grant; each relying party is told
    (back-channel logout from `idp worker`; this browser's front-channel iframes too)."""
    user_session = current_session()
    if user_session is None:
        return begin_local_signin(request.path)
    form = EndOtherSessionsForm()
    if not form.validate_on_submit():
        return render_template("accounts/sign_out_everywhere.html", form=form), 422 if form.errors else 200
    frames = frontchannel_urls(user_session)
    get_account_home_service().sign_out_everywhere(
        user_session.user_id, ip_address=request.remote_addr, user_agent=request.user_agent.string)
    db.session.commit()
    response = signed_out_page("accounts/signed_out_everywhere.html", frames)
    cookies.delete_private_cookie(response, cookies.session_cookie_name())
    return response


def describe_device(user_agent: str | None) -> str:
    browser, system = describe_user_agent(user_agent)
    if browser and system:
        return _l("%(browser)s on %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return _l("A browser on %(system)s", system=system)
    return _l("Unknown device")


@dataclass(frozen=True)
class SessionRow:
    device: str
    started_at: str
    last_seen_at: str
    is_current: bool


def describe_session(user_session: UserSession, current: UserSession) -> SessionRow:
    return SessionRow(
        device=str(describe_device(user_session.user_agent)),
        started_at=when(user_session.created_at),
        last_seen_at=when(user_session.last_seen_at),
        is_current=user_session.id == current.id,
    )
