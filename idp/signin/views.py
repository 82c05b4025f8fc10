"""Sign-in pages: the password step, the consent step and sign-out.

Each step view does its one job and hands back to continue_signin(), which asks next_step()
where to go (design.md, The sign-in transaction).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale

from idp.extensions import db, limiter
from idp.logout.web import frontchannel_urls, signed_out_page
from idp.signin.current import (
    begin_local_signin,
    continue_signin,
    current_session,
    end_current_session,
    get_signin_service,
    has_finished_signin_cookie,
    has_signin_cookie,
    pending_transaction,
    render_step,
)
from idp.signin.errors import InvalidCredentials
from idp.signin.flow import Step, next_step
from idp.signin.forms import INCORRECT_CREDENTIALS, ConsentForm, SigninForm, SignoutForm
from idp.signin.scopes import describe_scopes
from idp.signin.web import signin_rate_limit, transaction_ended
from idp.web import cookies

bp = Blueprint("signin", __name__)

ERROR_MESSAGES = {InvalidCredentials: INCORRECT_CREDENTIALS}


def is_partner_hint(login_hint: str | None) -> bool:
    """login_hint=partner: the relying party sends the person to the sign-in partners
    (issue 5); only when the deployment has one."""
    partners = current_app.extensions.get("idp_partners") or {}
    return login_hint == "partner" and any(partner.enabled for partner in partners.values())


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(signin_rate_limit, methods=["POST"])
def password():
    txn = pending_transaction()
    if txn is None:
        if request.method == "GET" and (not has_signin_cookie() or has_finished_signin_cookie()):
            return begin_local_signin(request.args.get("next"), current_session())
        return transaction_ended()
    if next_step(txn) is not Step.PASSWORD:
        return continue_signin(txn)
    if is_partner_hint(txn.login_hint):
        # The relying party asked for the sign-in partners (docs/oidc.md): once, so that
        # "sign in with your Passerelle account instead" still leads here.
        txn.login_hint = None
        db.session.commit()
        return redirect(url_for("federation.partners"), code=303)
    form = SigninForm(email=txn.login_hint)
    if form.validate_on_submit():
        try:
            get_signin_service().verify_password(
                txn, form.email.data, form.password.data, locale=str(get_locale()),
                ip_address=request.remote_addr, user_agent=request.user_agent.string,
            )
        except InvalidCredentials as error:
            db.session.commit()  # the failure count, a lock and its email, the event
            form.email.errors.append(ERROR_MESSAGES[type(error)])
        else:
            db.session.commit()
            return continue_signin(txn)
    client = get_signin_service().find_client(txn.client_id)
    return render_step("signin/password.html", txn, 422 if form.errors else 200, form=form, client=client)


@bp.route("/signin/consent", methods=["GET", "POST"])
def consent():
    txn = pending_transaction()
    if txn is None:
        return transaction_ended()
    if next_step(txn) is not Step.CONSENT:
        return continue_signin(txn)
    client = get_signin_service().find_client(txn.client_id)
    if client is None:
        return transaction_ended()
    form = ConsentForm()
    if form.validate_on_submit():
        get_signin_service().decide_consent(txn, is_allowed=form.decision.data == "allow")
        db.session.commit()
        return continue_signin(txn)
    scopes = describe_scopes((txn.authorization_request or {}).get("scope", ""))
    return render_step("signin/consent.html", txn, 422 if form.errors else 200, form=form, client=client, scopes=scopes)


@bp.route("/signout", methods=["GET"])
def signout():
    """Asks before signing out (a GET never changes state), or confirms it is done."""
    return render_template("signin/signout.html", form=SignoutForm(), is_signed_in=current_session() is not None)


@bp.route("/signout", methods=["POST"])
def signout_submit() -> Response:
    form = SignoutForm()
    if not form.validate_on_submit():
        return render_template("signin/signout.html", form=form, is_signed_in=True), 422
    # The relying parties this session signed into get a logout token from `idp worker`;
    # those with a front-channel logout URI are loaded in iframes of the page that says so.
    frames = frontchannel_urls(current_session())
    if frames:
        response = signed_out_page("signin/signout.html", frames, form=form, is_signed_in=False)
    else:
        response = redirect(url_for("signin.signout"), code=303)
    end_current_session(response)
    cookies.delete_private_cookie(response, cookies.signin_cookie_name())
    return response
