"""The console's pages for the initial access tokens of dynamic registration (issue 16),
operators only: the unused ones (never their values), issuing one, shown once on the page
the form redirects to (one token per form, however often it is sent: idp.console.shown_once),
and revoking one. Routes join the console's blueprint (idp/app.py imports this module)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from idp.console.client_forms import TOKEN_LIFETIMES, InitialTokenForm
from idp.console.client_views import (
    DONE,
    INITIAL_TOKEN,
    MAX_ROW_ID,
    _attempt,
    _choices,
    _duration,
    _form_once,
    _new_once,
    get_console_clients,
    get_shown_once,
)
from idp.console.errors import NothingToDo, ReasonRequired
from idp.console.forms import ReasonForm
from idp.console.views import ERROR_MESSAGES, bp
from idp.console.web import console_page, current_agent, current_session_id
from idp.context import app_context
from idp.extensions import db

TOKEN_GONE = _l("Nothing to do: this token was used, revoked or expired meanwhile.")
LIFETIME_NAMES = {"3600": _l("1 hour"), "86400": _l("1 day"), "604800": _l("7 days"), "2592000": _l("30 days")}


@bp.route("/initial-tokens", methods=["GET", "POST"])
@console_page(operator_only=True)
def initial_tokens():
    """The unused initial access tokens (without their values) and issuing a new one, shown
    once on the page this redirects to. One token per form, however often it is sent."""
    form, service = InitialTokenForm(), get_console_clients()
    if request.method == "GET":
        form.once.data = _new_once(INITIAL_TOKEN)
    if form.validate_on_submit():
        once = _form_once(form, form.expires_in, INITIAL_TOKEN)
        made = once and get_shown_once().receipt(once)
        if made:
            return _issued_again(made.initial_token_pk)
        issued = once and _attempt(form, lambda: service.issue_initial_token(
            current_agent(), _duration(form.expires_in.data, TOKEN_LIFETIMES), form.reason.data))
        if issued:
            try:
                get_shown_once().hold(current_session_id(), issued[0], initial_token_pk=issued[1].id, form_id=once)
            except IntegrityError:  # the same form sent twice at once: the other one issued it
                db.session.rollback()
                return _issued_again(get_shown_once().receipt(once).initial_token_pk)
            db.session.commit()
            return redirect(url_for("console.initial_token_issued", token_id=issued[1].id), code=303)
    return render_template("console/client_tokens.html", form=form, tokens=service.initial_tokens(current_agent()),
                           choices=_choices(LIFETIME_NAMES), notice=DONE.get(request.args.get("done"))), (
        422 if form.errors else 200)


def _issued_again(token_id: int):
    return redirect(url_for("console.initial_token_issued", token_id=token_id, again=1), code=303)


@bp.route("/initial-tokens/<int:token_id>/issued")
@console_page(operator_only=True)
def initial_token_issued(token_id: int):
    """Where issuing redirects: the token the first time (for the session that issued it),
    then only that it was shown once; ?again=1 after a form sent twice."""
    record = get_console_clients().initial_token(current_agent(), token_id) if token_id <= MAX_ROW_ID else None
    if record is None:
        abort(404)
    token = get_shown_once().take(current_session_id(), initial_token_pk=token_id)
    db.session.commit()
    return render_template("console/client_token_issued.html", token=token, record=record,
                           again=bool(request.args.get("again")),
                           registration_on=app_context().settings.OIDC_DYNAMIC_REGISTRATION)


@bp.route("/initial-tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@console_page(operator_only=True)
def revoke_initial_token(token_id: int):
    if token_id > MAX_ROW_ID:
        abort(404)
    form, service = ReasonForm(), get_console_clients()
    record = next((token for token in service.initial_tokens(current_agent()) if token.id == token_id), None)
    if record is None and request.method == "GET":
        abort(404)
    if form.validate_on_submit():
        try:
            service.revoke_initial_token(current_agent(), token_id, form.reason.data)
        except (ReasonRequired, NothingToDo) as error:
            db.session.rollback()
            form.reason.errors.append(TOKEN_GONE if isinstance(error, NothingToDo) else ERROR_MESSAGES[type(error)])
        else:
            db.session.commit()
            return redirect(url_for("console.initial_tokens", done="revoked"), code=303)
    return render_template("console/client_token_revoke.html", form=form, record=record, token_id=token_id), (
        422 if form.errors else 200)
