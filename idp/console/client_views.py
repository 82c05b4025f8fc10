"""The console's relying-party pages (issue 16), operators only: the list, one client,
register, edit, rotate the secret with an overlap, disable / enable / delete, and the
initial access tokens of dynamic registration (their pages in idp.console.token_views). ConsoleClients (idp.console.clients) does
the work through the services of `idp clients`; a secret or a token is shown once and never
again, on the page the POST that made it redirects to (idp.console.shown_once), so that
reloading it makes nothing more: a registration form carries the client ID it registers, a
rotation or token form a one-time id whose receipt a second sending finds. Routes join the console's blueprint (idp/app.py imports
this module)."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from idp.console.client_forms import (
    AUTH_METHOD_CHOICES,
    OVERLAP_CHOICES,
    ClientForm,
    NewClientForm,
    RotateSecretForm,
    lines,
    optional,
    rule_message,
)
from idp.console.clients import DELETE, DISABLE, ENABLE, POLICY_FIELDS, ConsoleClients
from idp.console.errors import NothingToDo, ReasonRequired
from idp.console.forms import ReasonForm
from idp.console.shown_once import FORM_LIFETIME, ShownOnce
from idp.console.views import ERROR_MESSAGES, bp
from idp.console.web import console_page, current_agent, current_session_id, key_again, spend_key
from idp.context import app_context
from idp.extensions import db
from idp.oidc.client_rules import CLIENT_ID_PATTERN
from idp.oidc.clients import ClientService, new_client_id
from idp.oidc.errors import ClientNotFound, ClientRule, InvalidClientMetadata
from idp.oidc.registration import RegistrationService
from idp.signin.assurance import ACR_VALUES_SUPPORTED

STATE_ACTIONS = {
    DISABLE: (_l("Disable the relying party"), _l(
        "It can no longer sign anyone in nor get tokens; every token and code it holds ends now. "
        "Enabling it later brings none of them back.")),
    ENABLE: (_l("Enable the relying party"), _l("It can sign people in and get tokens again.")),
    DELETE: (_l("Delete the relying party"), _l(
        "Its registration goes, with every token, code and consent issued to it. This cannot be undone: "
        "the same relying party would have to be registered again, with new credentials.")),
}
DONE = {
    DISABLE: _l("The relying party is disabled."), ENABLE: _l("The relying party is enabled."),
    DELETE: _l("The relying party is deleted."), "edit": _l("The changes are saved."),
    "revoked": _l("The initial access token is revoked."),
    "already": _l("This registration was already sent, so no second relying party was registered: here is the one "
                  "it made. Its secret is shown only once; rotate it if it was not copied."),
}
ALREADY_SO = _l("Nothing to do: the relying party is already in this state. Another operator may have just changed it.")
NO_CHANGE = _l("Nothing to change: every value is as it was.")
UNREADABLE_FORM = _l("This form could not be read: check the values and send it again.")
REGISTRATION_SALT = "passerelle console registration v1"
ONCE_SALT = "passerelle console once v1"
ROTATION, INITIAL_TOKEN = "rotate", "initial-token"  # what a one-time id was made for
BAD_JWKS = _l("The public keys are not JSON: paste the JSON Web Key Set as the relying party gave it.")
AUTH_METHOD_NAMES = {
    "client_secret_basic": _l("Client secret, HTTP Basic (client_secret_basic)"),
    "client_secret_post": _l("Client secret, in the request body (client_secret_post)"),
    "private_key_jwt": _l("Signed assertion with the client's key (private_key_jwt)"),
    "none": _l("None: a public client (PKCE only)"),
}
SUBJECT_NAMES = {"pairwise": _l("Pairwise: each sector sees its own identifier (recommended)"),
                 "public": _l("Public: the same identifier for every client")}
OVERLAP_NAMES = {"0": _l("None: the current secret stops now"), "3600": _l("1 hour"), "86400": _l("1 day"),
                 "604800": _l("7 days"), "2592000": _l("30 days")}
MAX_ROW_ID = 2**31 - 1  # an INTEGER column: a larger number is no row, not a database error
ACR_LABELS = dict(zip(ACR_VALUES_SUPPORTED, (
    _l("A password alone"), _l("A password and a code sent by email"), _l("Two-factor authentication"),
    _l("Two-factor with a security key or passkey (phishing-resistant)"))))
ACR_NAMES = {"": _l("Any (no minimum)"),
             **{value: _l("%(level)s (%(acr)s)", level=ACR_LABELS[value], acr=value) for value in ACR_VALUES_SUPPORTED}}


def get_console_clients() -> ConsoleClients:
    ctx = app_context()
    return ConsoleClients(db.session, ctx.clock, ClientService(db.session, ctx.settings, ctx.clock, ctx.hasher),
                          RegistrationService(db.session, ctx.settings, ctx.clock, ctx.hasher))


def get_shown_once() -> ShownOnce:
    ctx = app_context()
    return ShownOnce(db.session, ctx.clock, ctx.secret_box)


def _registration_ids() -> URLSafeSerializer:
    return URLSafeSerializer(app_context().settings.SECRET_KEY, salt=REGISTRATION_SALT)


def _registered_id(form: NewClientForm) -> str | None:
    """The client ID the registration form carries, or None (and a new one in the form)
    when it is missing or was not made by Passerelle."""
    try:
        client_id = _registration_ids().loads(form.registration.data or "")
    except BadSignature:
        client_id = None
    if isinstance(client_id, str) and CLIENT_ID_PATTERN.fullmatch(client_id):
        return client_id
    form.registration.data = _registration_ids().dumps(new_client_id())
    form.name.errors.append(UNREADABLE_FORM)
    return None


def _is_registered(client_id: str) -> bool:
    try:
        get_console_clients().show(current_agent(), client_id)
    except ClientNotFound:
        return False
    return True


def _new_once(*purpose: str) -> str:
    """A rotation or token form's one-time id: random, signed with the time and its purpose."""
    return URLSafeTimedSerializer(app_context().settings.SECRET_KEY, salt=ONCE_SALT).dumps(
        [*purpose, secrets.token_urlsafe(16)])


def _sent_once(value: str | None, *purpose: str) -> str | None:
    """The random part of a one-time id made for this purpose less than FORM_LIFETIME ago, or None."""
    try:
        sent = URLSafeTimedSerializer(app_context().settings.SECRET_KEY, salt=ONCE_SALT).loads(
            value or "", max_age=FORM_LIFETIME.total_seconds())
    except BadSignature:  # SignatureExpired too
        return None
    if isinstance(sent, list) and sent[:-1] == list(purpose) and isinstance(sent[-1], str):
        return sent[-1]
    return None


def _form_once(form, field, *purpose: str) -> str | None:
    """The form's one-time id, or None with a message on `field` and a new id in the form."""
    once = _sent_once(form.once.data, *purpose)
    if once is None:
        form.once.data = _new_once(*purpose)
        field.errors.append(UNREADABLE_FORM)
    return once


def _already_registered(client_id: str):
    """A replayed registration (a reload, a double click): the client it made, said so."""
    return redirect(url_for("console.client", client_id=client_id, done="already"), code=303)


def _show_or_404(client_id: str):
    if not CLIENT_ID_PATTERN.fullmatch(client_id):
        abort(404)  # before the database: a NUL byte is an error to PostgreSQL, not a miss
    try:
        return get_console_clients().show(current_agent(), client_id)
    except ClientNotFound:
        abort(404)


def _choices(names) -> list:
    return [(value, str(label), None) for value, label in names.items()]


def _policies(form: ClientForm) -> dict:
    """The edit page's policies as ClientService.update's keywords (None: no URI)."""
    values = {name: getattr(form, name).data for name in POLICY_FIELDS}
    for name in ("initiate_login_uri", "backchannel_logout_uri", "frontchannel_logout_uri", "jwks_uri"):
        values[name] = optional(values[name])
    values["scope"] = (values["scope"] or "").strip()
    values["min_acr"] = optional(values["min_acr"])
    return values


def _refused(form, error: InvalidClientMetadata) -> None:
    field, message = rule_message(error, form._fields)
    form[field].errors = [*form[field].errors, message]


def _attempt(form, action):
    """Run the service call; a refusal becomes the form's message (after a rollback) and
    None is returned, so the view shows the form again."""
    try:
        return action()
    except InvalidClientMetadata as error:
        db.session.rollback()
        _refused(form, error)
    except ReasonRequired as error:
        form.reason.errors.append(ERROR_MESSAGES[type(error)])
    return None


def _duration(value: str | None, choices) -> timedelta:
    """One of the page's choices, in seconds; anything else is negative, which the service refuses."""
    return timedelta(seconds=int(value) if value in choices else -1)


def _choice_lists() -> dict:
    return {"auth_methods": _choices({value: AUTH_METHOD_NAMES[value] for value in AUTH_METHOD_CHOICES}),
            "subject_types": _choices(SUBJECT_NAMES), "acr_choices": _choices(ACR_NAMES)}


@bp.route("/clients")
@console_page(operator_only=True)
def clients():
    return render_template("console/clients.html", clients=get_console_clients().list(current_agent()),
                           notice=DONE.get(request.args.get("done")))


@bp.route("/clients/new", methods=["GET", "POST"])
@console_page(operator_only=True)
def new_client():
    """Register a relying party under the client ID the form carries (one registration per
    form, however often it is sent), then redirect to the page that shows the secret once."""
    form = NewClientForm()
    if request.method == "GET":
        form.registration.data = _registration_ids().dumps(new_client_id())
    if form.validate_on_submit():
        client_id = _registered_id(form)
        jwks = None
        if (form.jwks.data or "").strip():
            try:
                jwks = json.loads(form.jwks.data)
            except ValueError:
                form.jwks.errors.append(BAD_JWKS)
        if not form.errors:
            fields = dict(
                client_id=client_id, name=form.name.data, redirect_uris=lines(form.redirect_uris.data),
                post_logout_redirect_uris=lines(form.post_logout_redirect_uris.data),
                grant_types=form.grant_types(), auth_method=form.auth_method.data,
                is_public=form.auth_method.data == "none", subject_type=form.subject_type.data,
                sector_identifier=optional(form.sector_identifier.data), jwks=jwks,
                profile="fapi2" if form.fapi2.data else None, **_policies(form))
            try:
                row, secret = get_console_clients().create(current_agent(), form.reason.data, fields)
                if secret is not None:
                    get_shown_once().hold(current_session_id(), secret, client_pk=row.record.id)
                db.session.commit()
            except InvalidClientMetadata as error:
                db.session.rollback()
                if error.rule is ClientRule.CLIENT_ID_TAKEN:
                    return _already_registered(client_id)
                _refused(form, error)
            except IntegrityError:  # the same form sent twice at once: the other one registered it
                db.session.rollback()
                if not _is_registered(client_id):
                    raise
                return _already_registered(client_id)
            except ReasonRequired as error:
                form.reason.errors.append(ERROR_MESSAGES[type(error)])
            else:
                return redirect(url_for("console.client_registered", client_id=client_id), code=303)
    return render_template("console/client_form.html", form=form, row=None, heading=_l("Register a relying party"),
                           **_choice_lists()), (
        422 if form.errors else 200)


@bp.route("/clients/<client_id>/registered")
@console_page(operator_only=True)
def client_registered(client_id: str):
    """Where a registration redirects: the secret the first time (for the session that
    registered the client), then only that it was shown once."""
    row = _show_or_404(client_id)
    secret = get_shown_once().take(current_session_id(), client_pk=row.record.id)
    db.session.commit()
    return render_template("console/client_secret.html", row=row, secret=secret, created=True, until=None)


@bp.route("/clients/<client_id>")
@console_page(operator_only=True)
def client(client_id: str):
    return render_template("console/client.html", row=_show_or_404(client_id),
                           notice=DONE.get(request.args.get("done")), auth_method_names=AUTH_METHOD_NAMES)


@bp.route("/clients/<client_id>/edit", methods=["GET", "POST"])
@console_page(operator_only=True)
def edit_client(client_id: str):
    """Change the name, redirect URIs and policies (as `idp clients update`), with a reason."""
    row = _show_or_404(client_id)
    record = row.record
    if request.method == "POST":
        form = ClientForm()
    else:
        form = ClientForm(data={
            **{name: getattr(record, name) for name in POLICY_FIELDS}, "name": record.name,
            "min_acr": record.min_acr or "", "fapi2": record.profile == "fapi2",
            "redirect_uris": "\n".join(record.redirect_uris or ()),
            "post_logout_redirect_uris": "\n".join(record.post_logout_redirect_uris or ())})
    if form.validate_on_submit():
        registration = {"name": (form.name.data or "").strip(), "redirect_uris": lines(form.redirect_uris.data),
                        "post_logout_redirect_uris": lines(form.post_logout_redirect_uris.data)}
        try:
            get_console_clients().edit(current_agent(), client_id, form.reason.data, registration, _policies(form),
                                       "fapi2" if form.fapi2.data else None)
        except InvalidClientMetadata as error:
            db.session.rollback()
            _refused(form, error)
        except (ReasonRequired, NothingToDo) as error:
            db.session.rollback()
            form.reason.errors.append(NO_CHANGE if isinstance(error, NothingToDo) else ERROR_MESSAGES[type(error)])
        else:
            db.session.commit()
            return redirect(url_for("console.client", client_id=client_id, done="edit"), code=303)
    return render_template("console/client_form.html", form=form, row=row, heading=_l("Edit: %(name)s", name=row.name),
                           **_choice_lists()), (
        422 if form.errors else 200)


def _rotation_sent_again(client_id: str) -> bool:
    """Whether this POST is a rotation form that already rotated the secret (a reload, a
    double click): the guard then asks no key, as nothing is done but saying so."""
    once = _sent_once(request.form.get("once"), ROTATION, client_id) if request.method == "POST" else None
    g.console_rotation_sent_again = once is not None and get_shown_once().receipt(once) is not None
    return g.console_rotation_sent_again


def _rotated_again(client_id: str):
    return redirect(url_for("console.client_secret_rotated", client_id=client_id, again=1), code=303)


@bp.route("/clients/<client_id>/rotate-secret", methods=["GET", "POST"])
@console_page(operator_only=True, destructive=lambda client_id: not _rotation_sent_again(client_id))
def rotate_client_secret(client_id: str):
    """A new secret, shown once on the page this redirects to; the current one keeps working
    for the overlap chosen. One rotation per form, however often it is sent."""
    row = _show_or_404(client_id)
    form = RotateSecretForm()
    if request.method == "GET":
        form.once.data = _new_once(ROTATION, client_id)
    if form.validate_on_submit():
        if g.console_rotation_sent_again:
            return _rotated_again(client_id)
        once = _form_once(form, form.overlap, ROTATION, client_id)
        rotated = once and _attempt(form, lambda: get_console_clients().rotate_secret(
            current_agent(), client_id, _duration(form.overlap.data, OVERLAP_CHOICES), form.reason.data))
        if rotated:
            try:
                get_shown_once().hold(current_session_id(), rotated[0], client_pk=row.record.id, form_id=once)
            except IntegrityError:  # the same form sent twice at once: the other one rotated
                db.session.rollback()
                return _rotated_again(client_id)
            if not spend_key():
                return key_again()
            db.session.commit()
            return redirect(url_for("console.client_secret_rotated", client_id=client_id), code=303)
    return render_template("console/client_rotate.html", form=form, row=row, choices=_choices(OVERLAP_NAMES)), (
        422 if form.errors else 200)


@bp.route("/clients/<client_id>/new-secret")
@console_page(operator_only=True)
def client_secret_rotated(client_id: str):
    """Where a rotation redirects: the new secret the first time (for the session that
    rotated it), then only that it was shown once; ?again=1 after a form sent twice."""
    row = _show_or_404(client_id)
    secret = get_shown_once().take(current_session_id(), client_pk=row.record.id, from_form=True)
    db.session.commit()
    return render_template("console/client_secret.html", row=row, secret=secret, created=False,
                           until=row.previous_secret_until, again=bool(request.args.get("again")))


@bp.route("/clients/<client_id>/<action>", methods=["GET", "POST"])
@console_page(operator_only=True, destructive=lambda client_id, action: action in (DISABLE, DELETE))
def client_state(client_id: str, action: str):
    """Disable, enable or delete, with a reason; disabling and deleting ask for the key."""
    if action not in STATE_ACTIONS:
        abort(404)
    row, form = _show_or_404(client_id), ReasonForm()
    if form.validate_on_submit():
        try:
            get_console_clients().change_state(current_agent(), client_id, action, form.reason.data)
        except (ReasonRequired, NothingToDo) as error:
            db.session.rollback()
            form.reason.errors.append(ALREADY_SO if isinstance(error, NothingToDo) else ERROR_MESSAGES[type(error)])
        else:
            if action in (DISABLE, DELETE) and not spend_key():
                return key_again()
            db.session.commit()
            if action == DELETE:
                return redirect(url_for("console.clients", done=DELETE), code=303)
            return redirect(url_for("console.client", client_id=client_id, done=action), code=303)
    title, explanation = STATE_ACTIONS[action]
    return render_template("console/client_action.html", form=form, row=row, action=action, title=title,
                           explanation=explanation), 422 if form.errors else 200
