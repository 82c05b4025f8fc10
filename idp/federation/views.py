"""Sign-in partners pages: the list, the trip to a partner and the way back (issue 5).

/signin/partners lists the partners in the page's language; a button there posts to
/signin/partners/<id>, which sends the browser to the partner; the partner sends it back to
/signin/partners/callback, the one redirect URI Passerelle registers with every partner.
Every refusal is a page that says what happened and offers the other choices, never a 500
and never a half-done sign-in.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from idp.context import app_context
from idp.extensions import db, limiter
from idp.federation.errors import (
    FederationError,
    InvalidPartnerResponse,
    IssuerMismatch,
    LastWayToSignIn,
    LinkNotFound,
    PartnerAlreadyLinked,
    PartnerNotFound,
    PartnerRefused,
    PartnerUnavailable,
    RequestNotFound,
)
from idp.federation.partners import load_partners
from idp.federation.services import BrokerService, PartnerIdentity
from idp.federation.web import get_broker_service
from idp.federation.upstream import PartnerMetadataCache
from idp.signin.current import (
    begin_local_signin,
    continue_signin,
    current_session,
    get_signin_service,
    has_signin_cookie,
    pending_transaction,
)
from idp.signin.flow import PARTNER, PARTNER_ACR, SESSION_REUSED, Step, next_step
from idp.signin.web import signin_rate_limit, transaction_ended
from idp.web.headers import leave_site_policy

bp = Blueprint("federation", __name__)
log = logging.getLogger(__name__)

CALLBACK_PATH = "/signin/partners/callback"

# (title, message) of each refusal page; %(service)s is SERVICE_NAME.
ERROR_MESSAGES = {
    PartnerNotFound: (_l("This sign-in partner is not available"), _l("Choose another sign-in partner, or sign in with your %(service)s account.")),
    PartnerUnavailable: (
        _l("The sign-in partner is not responding"),
        _l("The sign-in partner is down or too slow right now. Try again in a few minutes, or sign in with your %(service)s account instead."),
    ),
    PartnerRefused: (
        _l("The sign-in partner did not sign you in"),
        _l("You cancelled, or the sign-in partner refused the sign-in. Nothing was shared. You can try again or choose another way to sign in."),
    ),
    RequestNotFound: (
        _l("This sign-in has expired or was already used"),
        _l("For your security, the answer of a sign-in partner can be used only once and only for a few minutes, in the browser that started the sign-in. Start again."),
    ),
    IssuerMismatch: (
        _l("The sign-in partner's answer could not be trusted"),
        _l("The answer did not come from the sign-in partner you chose. Nobody was signed in. Start again."),
    ),
    InvalidPartnerResponse: (
        _l("The sign-in partner's answer could not be trusted"),
        _l("The answer of the sign-in partner failed our security checks. Nobody was signed in. Start again, or sign in with your %(service)s account."),
    ),
    PartnerAlreadyLinked: (
        _l("This sign-in partner account is linked to another account"),
        _l("The account you used at the sign-in partner is already linked to another %(service)s account. Sign in with that partner to use it."),
    ),
}
ACCOUNT_DISABLED = (_l("This account cannot be used"), _l("The %(service)s account linked to this sign-in partner account is disabled. Get help."))
UNLINK_MESSAGES = {
    LastWayToSignIn: _l("This is the only way to sign in to your account: it cannot be unlinked."),
    LinkNotFound: _l("This sign-in partner is no longer linked to your account."),
}


class PartnerForm(FlaskForm):
    """A button that goes to one partner (CSRF only)."""


def init_app(app: Flask) -> None:
    """Read the partners file once per worker (validate() checked it) and register the pages;
    with PARTNERS_ENABLED false, no partner, no page (404) and no link (issue 9 #14)."""
    enabled = app.config["PARTNERS_ENABLED"]
    app.extensions["idp_partners"] = load_partners(app.config["PARTNERS_FILE"]) if enabled else {}
    clock = app.extensions["idp"].clock  # the injected clock: tests move it, nobody sleeps
    app.extensions["idp_partner_cache"] = PartnerMetadataCache(
        app.config["PARTNER_METADATA_CACHE_TTL"], app.config["PARTNER_KEYS_MIN_REFRESH"],
        monotonic=lambda: clock().timestamp(),
    )
    if enabled:
        app.register_blueprint(bp)


@bp.app_context_processor
def partner_choices() -> dict:
    """The sign-in page offers partners only when an enabled one exists."""
    partners = current_app.extensions.get("idp_partners") or {}
    return {"has_partners": any(partner.enabled for partner in partners.values())}


def redirect_uri() -> str:
    """The one redirect URI every partner knows, from the issuer (never from the request)."""
    return app_context().settings.OIDC_ISSUER + CALLBACK_PATH


def problem(error: FederationError | None, status: int = 400, *, message: tuple | None = None) -> Response:
    title, text = message or ERROR_MESSAGES[type(error)]
    if error is not None and str(error):
        log.warning("sign-in partner refused: %s: %s", type(error).__name__, error)
    text = str(text) % {"service": app_context().settings.SERVICE_NAME}
    return make_response(render_template("federation/problem.html", title=title, message=text), status)


def _partners_page(status: int = 200) -> Response:
    broker = get_broker_service()
    locale = str(get_locale())
    partners = [(partner.id, partner.name(locale)) for partner in broker.enabled_partners()]
    response = make_response(render_template("federation/partners.html", partners=partners, form=PartnerForm()), status)
    # The POST goes to the partner (its authorization endpoint, then its own pages or straight
    # back through the callback to the client): no list of origins bounds that chain.
    return leave_site_policy(response)


@bp.route("/signin/partners")
def partners():
    txn = pending_transaction()
    if txn is None:
        if not has_signin_cookie():
            response = begin_local_signin(request.args.get("next"), current_session())
            if response.headers.get("Location") == url_for("signin.password"):
                response.headers["Location"] = url_for("federation.partners")  # the choice made
            return response
        return transaction_ended()
    if next_step(txn) is not Step.PASSWORD:
        return continue_signin(txn)
    return _partners_page()


@bp.route("/signin/partners/<partner_id>", methods=["GET", "POST"])
@limiter.limit(signin_rate_limit, methods=["POST"])  # each POST stores a round trip
def go_to_partner(partner_id: str):
    """Send the browser to the partner (303) for this browser's sign-in."""
    if request.method == "GET":
        return redirect(url_for("federation.partners"), code=303)
    txn = pending_transaction()
    if txn is None or next_step(txn) is not Step.PASSWORD:
        return partners()
    if not PartnerForm().validate_on_submit():
        return _partners_page(422)
    try:
        url = get_broker_service().begin(
            partner_id, redirect_uri=redirect_uri(), signin_transaction_id=txn.id, ui_locale=str(get_locale())
        )
    except FederationError as error:
        return problem(error, 503 if isinstance(error, PartnerUnavailable) else 400)
    db.session.commit()
    return redirect(url, code=303)


@bp.route(CALLBACK_PATH)
@limiter.limit(signin_rate_limit)  # each answer costs a back-channel exchange
def callback():
    """The partner's answer (OIDC Core §3.1.2.5 and §3.1.2.6). Signs in, or links for a
    person who started from their account page."""
    txn = pending_transaction()
    user_session = current_session()
    broker = get_broker_service()
    args = request.args
    try:
        identity = broker.finish(
            args.get("state"), redirect_uri=redirect_uri(), signin_transaction_id=txn.id if txn is not None else None,
            session_id=user_session.id if user_session is not None else None,
            code=args.get("code"), error=args.get("error"), iss=args.get("iss"),
        )
    except FederationError as error:
        db.session.commit()  # the spent state stays spent
        return problem(error, 503 if isinstance(error, PartnerUnavailable) else 400)
    if identity.session_id is not None:
        return _finish_linking(broker, identity, user_session.user_id)
    return _finish_signin(broker, identity, txn)


def _finish_signin(broker: BrokerService, identity: PartnerIdentity, txn) -> Response:
    if next_step(txn) is not Step.PASSWORD:
        db.session.commit()  # someone is already identified in this sign-in (another tab): keep them
        return continue_signin(txn)
    user, _is_new = broker.sign_in(identity, ip_address=request.remote_addr, user_agent=request.user_agent.string)
    if not user.is_active:
        db.session.commit()
        return problem(None, 403, message=ACCOUNT_DISABLED)
    txn.user_id = user.id
    get_signin_service().record_step(txn, PARTNER, replacing=(SESSION_REUSED,))
    txn.steps_done = {**txn.steps_done, PARTNER_ACR: identity.acr}
    db.session.commit()
    return continue_signin(txn)


def _finish_linking(broker: BrokerService, identity: PartnerIdentity, user_id: int) -> Response:
    try:
        broker.link(user_id, identity, ip_address=request.remote_addr, user_agent=request.user_agent.string)
    except PartnerAlreadyLinked as error:
        db.session.commit()  # nothing was linked; the state stays spent
        return problem(error, 409)
    db.session.commit()
    flash(_l("The sign-in partner is linked to your account. You can now sign in with it."))
    return redirect(url_for("federation.manage"), code=303)


@bp.route("/account/partners")
def manage():
    """The person's linked partners (each can be unlinked) and those they can link."""
    user_session = current_session()
    if user_session is None:
        return begin_local_signin(request.path)
    broker = get_broker_service()
    locale = str(get_locale())
    links = broker.links_of(user_session.user_id)
    by_issuer = {partner.issuer: partner for partner in broker.partners.values()}
    linked = [(link.id, by_issuer[link.issuer].name(locale) if link.issuer in by_issuer else urlsplit(link.issuer).hostname)
              for link in links]
    linkable = [(partner.id, partner.name(locale)) for partner in broker.enabled_partners()
                if partner.issuer not in {link.issuer for link in links}]
    response = make_response(render_template(
        "federation/manage.html", linked=linked, linkable=linkable, form=PartnerForm(), notices=get_flashed_messages(),
    ))
    return leave_site_policy(response)  # the link buttons go to a partner, as on the sign-in list


@bp.route("/account/partners/<partner_id>/link", methods=["POST"])
@limiter.limit(signin_rate_limit)
def link(partner_id: str):
    """Go to the partner to link it to the signed-in account: the person has signed in
    with Passerelle and now signs in with the partner (issue 5: never by matching an
    address)."""
    user_session = current_session()
    if user_session is None:
        return begin_local_signin(url_for("federation.manage"))
    if not PartnerForm().validate_on_submit():
        return redirect(url_for("federation.manage"), code=303)
    try:
        url = get_broker_service().begin(
            partner_id, redirect_uri=redirect_uri(), session_id=user_session.id, ui_locale=str(get_locale())
        )
    except FederationError as error:
        return problem(error, 503 if isinstance(error, PartnerUnavailable) else 400)
    db.session.commit()
    return redirect(url, code=303)


@bp.route("/account/partners/<int:link_id>/unlink", methods=["POST"])
def unlink(link_id: int):
    user_session = current_session()
    if user_session is None:
        return begin_local_signin(url_for("federation.manage"))
    if PartnerForm().validate_on_submit():
        try:
            get_broker_service().unlink(
                user_session.user_id, link_id, ip_address=request.remote_addr, user_agent=request.user_agent.string,
            )
        except (LastWayToSignIn, LinkNotFound) as error:
            flash(UNLINK_MESSAGES[type(error)])
        else:
            db.session.commit()
            flash(_l("The sign-in partner is no longer linked to your account."))
    return redirect(url_for("federation.manage"), code=303)
