"""The terms of use and privacy policy pages, and the sign-in step that asks to accept them.

/terms and /privacy show the version in force in the page's language; /terms/<version> and
/privacy/<version> show a version published earlier. /signin/terms is the TERMS step of the
sign-in transaction (design.md, The sign-in transaction).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

from idp.audit import EventTag, record_event
from idp.context import app_context
from idp.extensions import db
from idp.federation.web import get_broker_service
from idp.signin.current import (
    continue_signin,
    end_current_session,
    get_signin_service,
    pending_transaction,
    render_step,
)
from idp.signin.flow import PARTNER, TERMS_DECLINED, Step, next_step
from idp.signin.web import transaction_ended
from idp.terms import documents
from idp.terms.errors import TermsVersionChanged
from idp.terms.forms import TermsDecisionForm
from idp.terms.services import TermsService, TermsVersionInfo
from idp.web import cookies
from idp.web.text import TERMS_TEXT

bp = Blueprint("terms", __name__)

VERSION_CHANGED = _l("A new version was published while you were reading. Read this version, then accept it.")


@bp.record_once
def _install(state) -> None:
    app = state.app
    # A global, not a context variable: the document layout reads it in every language.
    app.jinja_env.globals.update(terms_text=TERMS_TEXT)
    if app.config["TERMS_DIRECTORY"]:
        # An operator's documents: "terms/<version>/..." is looked up there first, and the
        # layouts (terms/_document.html) still come from Passerelle's templates.
        app.jinja_loader = ChoiceLoader([
            PrefixLoader({"terms": FileSystemLoader(app.config["TERMS_DIRECTORY"])}, delimiter="/"),
            app.jinja_loader,
        ])


def get_terms_service() -> TermsService:
    ctx = app_context()
    return TermsService(db.session, ctx.settings, ctx.clock)


def page_locale() -> str:
    locale = str(get_locale())
    return locale if locale in documents.LOCALES else documents.LOCALES[0]


def _document_page(kind: str, info: TermsVersionInfo | None) -> str:
    if info is None:
        abort(404)
    service = get_terms_service()
    return render_template(
        documents.template_name(info.version, kind, page_locale()),
        version_info=info,
        earlier_versions=service.earlier_versions(),
    )


@bp.route("/terms")
def terms_of_use():
    return _document_page("terms", get_terms_service().current())


@bp.route("/privacy")
def privacy_policy():
    return _document_page("privacy", get_terms_service().current())


@bp.route("/terms/<version>")
def terms_of_use_version(version: str):
    return _document_page("terms", get_terms_service().find(version))


@bp.route("/privacy/<version>")
def privacy_policy_version(version: str):
    return _document_page("privacy", get_terms_service().find(version))


@bp.route("/signin/terms", methods=["GET", "POST"])
def accept():
    """Read and accept the version in force, or decline and leave signed out."""
    txn = pending_transaction()
    if txn is None:
        return transaction_ended()
    if next_step(txn) is not Step.TERMS:
        return continue_signin(txn)
    service = get_terms_service()
    form = TermsDecisionForm()
    if form.validate_on_submit():
        if form.decision.data == "decline":
            return _decline(txn)
        try:
            acceptance = service.accept(txn.user_id, page_locale(), form.version.data or None)
        except TermsVersionChanged:
            return _render_accept(txn, service, form, problem=VERSION_CHANGED)
        record_event(
            db.session, app_context().clock, EventTag.TERMS_ACCEPTED, user_id=txn.user_id,
            ip_address=request.remote_addr, user_agent=request.user_agent.string,
            version=acceptance.version, locale=acceptance.locale,
        )
        get_signin_service().record_step(txn, Step.TERMS.value)
        db.session.commit()
        return continue_signin(txn)
    return _render_accept(txn, service, form)


def _render_accept(txn, service: TermsService, form: TermsDecisionForm, problem=None) -> Response:
    info = service.current()
    form.version.data = info.version
    previous = service.last_acceptance(txn.user_id)
    return render_step(
        "terms/accept.html", txn, 422 if form.errors or problem else 200,
        form=form, version_info=info, is_update=previous is not None, problem=problem,
        terms_template=documents.template_name(info.version, "terms", page_locale()),
        privacy_template=documents.template_name(info.version, "privacy", page_locale()),
    )


def _discard_new_partner_account(txn) -> None:
    """A first partner sign-in declined: no account is kept for someone who did not accept.
    The transaction stays (without a person), so a waiting client still gets access_denied."""
    user_id = txn.user_id
    txn.user_id = None
    db.session.flush()
    get_broker_service().discard_declined_account(user_id)


def _decline(txn) -> Response:
    """Nobody is signed in without accepting: no session starts, and any earlier one ends.
    A relying party that asked gets access_denied when the person goes back to it."""
    signin = get_signin_service()
    signin.record_step(txn, TERMS_DECLINED)
    client = signin.find_client(txn.client_id)
    if txn.authorization_request is None:
        signin.complete(txn)
    if PARTNER in txn.steps_done and txn.user_id is not None:
        _discard_new_partner_account(txn)
    db.session.commit()
    response = render_step("terms/declined.html", txn, 200, client=client, returns_to_client=txn.authorization_request is not None)
    end_current_session(response)
    if txn.authorization_request is None:
        cookies.delete_private_cookie(response, cookies.signin_cookie_name())
    return response
