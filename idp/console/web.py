"""The console for a request: its services built from the app's context, and the guard
every console page goes through (console_page): a role or 404, a recent security key or
the step-up that asks for it, the console's own session cookie, operator-only pages, and
the key asked again before a destructive action (idp.console.access).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps

from flask import abort, g, make_response, render_template, request

from idp.accounts.models import User
from idp.accounts.unlock import UnlockService
from idp.audit import EventTag, record_event
from idp.console.access import ConsoleAccess, KeyUses
from idp.console.actions import PersonActions
from idp.console.people import PeopleService
from idp.console.roles import Agent, RoleService
from idp.context import app_context
from idp.extensions import db
from idp.logout.services import LogoutService
from idp.mfa.models import WebAuthnCredential
from idp.signin.assurance import ACR_MFA_PHISHING_RESISTANT, AMR_HWK, AMR_MFA, AMR_SWK
from idp.signin.current import begin_local_signin, continue_signin, current_session, get_mail_service, get_signin_service
from idp.signin.current_session import get_session_service
from idp.signin.models import UserSession
from idp.web import cookies

CONSOLE_COOKIE = "passerelle_console"


def console_cookie_name() -> str:
    return cookies.host_prefixed(CONSOLE_COOKIE, cookies.is_secure())


def get_role_service() -> RoleService:
    return RoleService(db.session, app_context().clock)


def get_people_service() -> PeopleService:
    ctx = app_context()
    return PeopleService(db.session, ctx.settings, ctx.clock, LogoutService(db.session, ctx.settings, ctx.clock))


def get_person_actions() -> PersonActions:
    from idp.registration.web import get_registration_service  # registration may be off: built on demand

    ctx = app_context()
    return PersonActions(
        db.session, ctx.settings, ctx.clock, get_session_service(),
        UnlockService(db.session, ctx.settings, ctx.clock, ctx.hasher),
        get_registration_service().resend_activation, get_mail_service(),
    )


def current_agent() -> Agent:
    return g.console_agent


def current_session_id() -> int:
    """The agent's IdP session (a step-up makes a new one)."""
    return g.console_user_session.id


def current_agent_email() -> str | None:
    user = db.session.get(User, g.console_agent.user_id)
    return user.email if user is not None else None


def console_started_at() -> datetime:
    """When this console session started, to the second below (searches since then count)."""
    return datetime.fromtimestamp(math.floor(g.console_session.started_at), UTC)


def get_console_organizations():
    from idp.console.organizations import ConsoleOrganizations
    from idp.orgs.web import get_organization_service

    return ConsoleOrganizations(get_organization_service())


def spend_key() -> bool:
    """A destructive action went ahead: the key use that confirmed it confirms nothing else.
    False when a racing request spent it first: the caller rolls back (see key_again)."""
    return KeyUses(db.session, app_context().clock).spend(g.console_user_session.id)


def key_again():
    """After a lost race for the key use: nothing was done; ask for the key again."""
    db.session.rollback()
    user_session = g.console_user_session
    return ask_for_key(user_session, db.session.get(User, user_session.user_id), request.path)


def ask_for_key(user_session: UserSession, user: User, return_to: str):
    """Step-up through the sign-in (idp.signin): only the key is asked (the session's
    password counts), and a new session results whose auth_time is the key's. An agent
    without a key is told to add one from their account page (403: they hold a role)."""
    has_key = db.session.query(WebAuthnCredential.id).filter_by(user_id=user.id).first() is not None
    if not has_key:
        return make_response(render_template("console/key_required.html"), 403)
    without_key = [method for method in user_session.amr or [] if method not in (AMR_HWK, AMR_SWK, AMR_MFA)]
    txn, plain_handle = get_signin_service().begin(
        return_to=return_to, login_hint=user.email, requested_acr=ACR_MFA_PHISHING_RESISTANT,
        authenticated_user_id=user.id, session_amr=without_key,
    )
    db.session.commit()
    response = continue_signin(txn)
    prefix = cookies.signin_cookie_name() + "="
    if txn.completed_at is None and not any(
            header.startswith(prefix) for header in response.headers.getlist("Set-Cookie")):
        cookies.set_private_cookie(response, cookies.signin_cookie_name(), plain_handle)
    return response


def console_page(*, operator_only: bool = False, destructive: bool | Callable[..., bool] = False) -> Callable:
    """Guard a console view (see the module's docstring); the view reads current_agent().
    destructive may be a predicate of the view's arguments (one view, several actions)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            user_session = current_session()
            if user_session is None:
                return begin_local_signin(request.path)  # as any signed-in page does
            user = db.session.get(User, user_session.user_id)
            agent = get_role_service().agent(user)
            if agent is None:
                abort(404)  # the console is not revealed to people without a role
            ctx = app_context()
            now, access = ctx.clock(), ConsoleAccess(ctx.settings)
            console = access.read(request.cookies.get(console_cookie_name()), user_session, now)
            if console is None:
                console = access.start(user_session, now)
                if console is None:
                    return ask_for_key(user_session, user, request.path)
                record_event(db.session, ctx.clock, EventTag.CONSOLE_SIGNED_IN, user_id=user.id,
                             agent_id=user.id, ip_address=request.remote_addr, user_agent=request.user_agent.string)
                db.session.commit()
            if operator_only and not agent.is_operator:
                record_event(db.session, ctx.clock, EventTag.CONSOLE_ACCESS_REFUSED, user_id=user.id,
                             agent_id=user.id, path=request.path[:200])
                db.session.commit()
                return make_response(render_template("console/forbidden.html"), 403)
            is_destructive = destructive(**kwargs) if callable(destructive) else destructive
            if is_destructive and (not access.has_fresh_key(user_session, now)
                                   or KeyUses(db.session, ctx.clock).is_spent(user_session.id)):
                return ask_for_key(user_session, user, request.path)
            g.console_agent, g.console_session, g.console_user_session = agent, console, user_session
            response = make_response(view(*args, **kwargs))
            if not g.get("console_ended"):
                cookies.set_private_cookie(response, console_cookie_name(), access.write(g.console_session.seen(now)))
            return response

        return guarded

    return decorate


def end_console_session(response) -> None:
    """Leave the console: its cookie goes (the IdP session stays)."""
    g.console_ended = True
    cookies.delete_private_cookie(response, console_cookie_name())
