"""The console's keys, mail and audit pages (issue 16), operators only (a service-desk agent
gets the 403 page, audited, as for organizations). Their routes join the console's
blueprint (idp/app.py imports this module); services do the work (idp.console.keys, .mail,
.audit_log)."""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, stream_with_context, url_for
from flask_babel import lazy_gettext as _l

from idp.audit import EventTag
from idp.console.audit_log import AuditFilter, AuditLog
from idp.console.errors import BadFilter, ReasonRequired
from idp.console.forms import ReasonForm
from idp.console.keys import ConsoleKeys
from idp.console.mail import DISCARD, RETRY, ConsoleMail
from idp.console.ops_forms import AuditFilterForm, RotateForm
from idp.console.views import ERROR_MESSAGES, bp
from idp.console.web import console_page, current_agent, key_again, spend_key
from idp.context import app_context
from idp.extensions import db
from idp.mail.delivery import get_mail_service
from idp.mail.errors import MessageBusy, MessageExpired, MessageNotWaiting, UnknownMessage
from idp.oidc.keys import KeyService

MAIL_ERRORS = {
    ReasonRequired: ERROR_MESSAGES[ReasonRequired],
    MessageBusy: _l("A sender may be sending this message right now. Look again in a few minutes."),
    MessageNotWaiting: _l("Nothing to do: the message is no longer waiting (sent, dropped, discarded, or already "
                          "due now). Another operator may have just acted on it."),
    MessageExpired: _l("The code or link in this message has expired: sending it again would only drop it. "
                       "Discard it; the person can ask for a new one."),
}
MAIL_ACTIONS = {
    RETRY: (_l("Send the message again"), _l(
        "The message goes back to the outbox, due now, with a fresh set of attempts if it was a dead letter. "
        "Fix the cause first (the relay, or the address with the person).")),
    DISCARD: (_l("Discard the message"), _l(
        "The message is never sent. What it carried (a code, a link) is erased now; this cannot be undone.")),
}
MAIL_DONE = {RETRY: _l("The message is queued again."), DISCARD: _l("The message was discarded.")}
FILTER_ERRORS = {
    "no_account": _l("No account has this exact address."),
    "unknown_event": _l("Choose an event type from the list."),
    "bad_time": _l("Enter a date like 2026-12-01, or a date and time like 2026-12-01 08:00 (UTC)."),
    "empty_range": _l("This time must come after the start of the range."),
    "bad_page": _l("This page of results does not exist. Start again from the newest events."),
}
EXPORT_NAME = "passerelle-audit-{stamp}.jsonl"


def get_console_keys() -> ConsoleKeys:
    ctx = app_context()
    return ConsoleKeys(KeyService(db.session, ctx.settings, ctx.clock, ctx.secret_box))


def get_console_mail() -> ConsoleMail:
    return ConsoleMail(get_mail_service())


def get_audit_log() -> AuditLog:
    return AuditLog(db.session, app_context().clock)


@bp.route("/keys")
@console_page(operator_only=True)
def keys():
    done = request.args.get("done") == "rotate"
    return render_template("console/keys.html", keys=get_console_keys().list(current_agent()), rotated=done,
                           publish_ahead=app_context().settings.OIDC_KEY_PUBLISH_AHEAD)


@bp.route("/keys/rotate", methods=["GET", "POST"])
@console_page(operator_only=True, destructive=True)
def rotate_keys():
    """Rotate, as `idp keys rotate` (--now: the emergency box), with a reason."""
    form = RotateForm()
    if form.validate_on_submit():
        try:
            get_console_keys().rotate(current_agent(), form.reason.data, immediately=form.immediately.data)
        except ReasonRequired as error:
            db.session.rollback()
            form.reason.errors.append(ERROR_MESSAGES[type(error)])
        else:
            if not spend_key():
                return key_again()
            db.session.commit()
            return redirect(url_for("console.keys", done="rotate"), code=303)
    return render_template("console/keys_rotate.html", form=form,
                           publish_ahead=app_context().settings.OIDC_KEY_PUBLISH_AHEAD), 422 if form.errors else 200


@bp.route("/mail")
@console_page(operator_only=True)
def mail():
    return render_template("console/mail.html", sections=get_console_mail().outbox(current_agent()),
                           notice=MAIL_DONE.get(request.args.get("done")))


@bp.route("/mail/<int:message_id>/<action>", methods=["GET", "POST"])
@console_page(operator_only=True, destructive=lambda message_id, action: action == DISCARD)
def mail_action(message_id: int, action: str):
    """Send one message again, or discard it, with a reason."""
    if action not in MAIL_ACTIONS:
        abort(404)
    service, form = get_console_mail(), ReasonForm()
    try:
        message = service.message(current_agent(), message_id)
    except UnknownMessage:
        abort(404)
    if form.validate_on_submit():
        try:
            service.act(current_agent(), message_id, action, form.reason.data)
        except tuple(MAIL_ERRORS) as error:
            db.session.rollback()
            form.reason.errors.append(MAIL_ERRORS[type(error)])
        except UnknownMessage:
            abort(404)
        else:
            if action == DISCARD and not spend_key():
                return key_again()
            db.session.commit()
            return redirect(url_for("console.mail", done=action), code=303)
    title, explanation = MAIL_ACTIONS[action]
    return render_template("console/mail_action.html", form=form, message=message, action=action, title=title,
                           explanation=explanation), 422 if form.errors else 200


@bp.route("/audit", methods=["GET", "POST"])
@console_page(operator_only=True)
def audit():
    """The audit log, newest first; filters come by POST (no address in access logs)."""
    form, log, page_error = AuditFilterForm(), get_audit_log(), None
    wanted, page, result = AuditFilter(), 1, None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                wanted = _filter(log, form)
                page = _page_number(request.form.get("page"))
                result = log.page(current_agent(), wanted, page)
            except BadFilter as error:
                _show(form, error)
                page_error = FILTER_ERRORS[error.problem] if error.field == "page" else None
    else:
        result = log.page(current_agent(), wanted, page)
    db.session.commit()
    return render_template("console/audit.html", form=form, result=result, page_error=page_error,
                           tags=[str(tag) for tag in EventTag]), 422 if form.errors or page_error else 200


@bp.route("/audit/export", methods=["POST"])
@console_page(operator_only=True)
def audit_export():
    """The filtered events as JSON lines (`idp audit export --format jsonl`), streamed."""
    form, log = AuditFilterForm(), get_audit_log()
    if form.validate_on_submit():
        try:
            wanted = _filter(log, form)
        except BadFilter as error:
            _show(form, error)
        else:
            lines = log.export(current_agent(), wanted)
            db.session.commit()
            stamp = app_context().clock().strftime("%Y%m%dT%H%M%SZ")
            body = stream_with_context(line + "\n" for line in lines)
            return Response(body, mimetype="application/jsonl", headers={
                "Content-Disposition": f'attachment; filename="{EXPORT_NAME.format(stamp=stamp)}"',
                "Cache-Control": "no-store"})
    db.session.rollback()
    return render_template("console/audit.html", form=form, result=None, page_error=None,
                           tags=[str(tag) for tag in EventTag]), 422


def _filter(log: AuditLog, form: AuditFilterForm) -> AuditFilter:
    return log.parse(form.person.data, form.agent.data, form.tag.data, form.since.data, form.until.data)


def _page_number(value: str | None) -> int:
    try:
        return int(value or 1)
    except ValueError:
        raise BadFilter("page", "bad_page") from None


def _show(form: AuditFilterForm, error: BadFilter) -> None:
    if error.field != "page":
        getattr(form, error.field).errors.append(FILTER_ERRORS[error.problem])
