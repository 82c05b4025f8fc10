"""The `idp` command line for operators: database, clients, users, signing keys, demo data.

Each command builds the app with create_app() (so it reads exactly the settings gunicorn
reads), runs one service call inside an app context and commits. Services never commit;
this module, like a view, owns the transaction. Failures print a message and exit 1,
never a traceback.
"""

from __future__ import annotations

import functools
import json
import secrets
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from idp.config import ConfigError
from idp.oidc.errors import ClientError

DEMO_CLIENT_ID = "demo-rp"
DEMO_RP_URL = "http://127.0.0.1:5001"
DEMO_USER_EMAIL = "demo@passerelle.test"


# --- plumbing -------------------------------------------------------------------------


def _get_app(ctx: click.Context) -> Flask:
    """The app given by the caller (tests pass obj=app), else one built from the settings."""
    root = ctx.find_root()
    if not isinstance(root.obj, Flask):
        from idp import create_app

        try:
            root.obj = create_app()
        except ConfigError as error:
            raise click.ClickException(f"configuration refused: {error}") from None
    return root.obj


def _error_message(error: Exception) -> str:
    """The exception's text, else the first line of its docstring (domain errors carry none)."""
    text = str(error)
    if text:
        return text
    doc = (type(error).__doc__ or type(error).__name__).strip().splitlines()[0]
    return doc


def _domain_errors() -> tuple[type[Exception], ...]:
    from alembic.util import CommandError

    from idp.accounts.errors import AccountError

    # CommandError: e.g. the database is at a revision this release does not know.
    return (ClientError, AccountError, CommandError)


def in_app(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command inside an app context; turn known failures into a message and exit 1."""

    @functools.wraps(command)
    @click.pass_context
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        from idp.extensions import db

        app = _get_app(ctx)
        with app.app_context():
            try:
                return ctx.invoke(command, *args, **kwargs)
            except _domain_errors() as error:
                db.session.rollback()
                raise click.ClickException(_error_message(error)) from None
            except SQLAlchemyError as error:
                db.session.rollback()
                summary = str(error.orig if getattr(error, "orig", None) else error).splitlines()[0]
                raise click.ClickException(
                    f"database error: {summary} (has `idp db upgrade` been run on this database?)"
                ) from None

    return wrapper


def json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(command)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _services():
    """The collaborators services need, from the app being served."""
    from idp.context import app_context
    from idp.extensions import db

    return db.session, app_context()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Operate Passerelle: database, clients, users and signing keys.

    Settings come from IDP_CONFIG (a TOML file) and IDP_* environment variables, as for
    the server itself.
    """


# --- idp db ---------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Create or upgrade the database schema (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@in_app
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to date. Safe to run on every deploy."""
    from idp.extensions import db as database
    from idp.migrations import current_revision, upgrade

    _ensure_sqlite_directory(database.engine.url)
    with database.engine.begin() as connection:
        upgrade(connection, revision)
        now_at = current_revision(connection)
    click.echo(f"database at revision {now_at}")


@db.command("current")
@json_option
@in_app
def db_current(as_json: bool) -> None:
    """Print the revision the database is at."""
    from idp.extensions import db as database
    from idp.migrations import current_revision

    with database.engine.connect() as connection:
        revision = current_revision(connection)
    if as_json:
        _print_json({"revision": revision})
    else:
        click.echo(revision or "empty database (run `idp db upgrade`)")


@db.command("revision")
@click.option("--message", "-m", required=True, help="What the migration changes.")
@in_app
def db_revision(message: str) -> None:
    """For developers: autogenerate a migration from the models against an up-to-date database."""
    from alembic import command

    from idp.extensions import db as database
    from idp.migrations import alembic_config

    _ensure_sqlite_directory(database.engine.url)
    with database.engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)


def _ensure_sqlite_directory(url) -> None:
    """A brand-new SQLite database needs its folder (var/ by default) before the first connect."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


# --- idp clients ----------------------------------------------------------------------


def _client_service():
    from idp.oidc.clients import ClientService

    session, context = _services()
    return ClientService(session, context.settings, context.clock, context.hasher)


def _client_dict(client) -> dict[str, Any]:
    """Everything an operator may see about a client; never the secret hash."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "grant_types": list(client.grant_types),
        "scope": client.scope,
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "is_public": client.is_public,
        "subject_type": client.subject_type,
        "sector_identifier": client.sector_identifier,
        "require_consent": client.require_consent,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "jwks": client.jwks,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    }


def _echo_client(client) -> None:
    for key, value in _client_dict(client).items():
        if isinstance(value, list):
            value = " ".join(value) or "-"
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, dict):
            value = f"{len(value.get('keys', []))} key(s)"
        elif value is None:
            value = "-"
        click.echo(f"{key:30} {value}")


@main.group()
def clients() -> None:
    """Register and manage relying parties."""


@clients.command("create")
@click.option("--name", required=True, help="Shown to people on the consent page.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Exact redirect URI (repeatable).")
@click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True, help="Exact URI (repeatable).")
@click.option(
    "--grant-type",
    "grant_types",
    multiple=True,
    type=click.Choice(["authorization_code", "refresh_token", "client_credentials"]),
    help="Repeatable. Default: authorization_code and refresh_token.",
)
@click.option(
    "--auth-method",
    type=click.Choice(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]),
    help="Token endpoint authentication. Default: client_secret_basic, or none with --public.",
)
@click.option("--public", "is_public", is_flag=True, help="A client that cannot keep a secret (PKCE only).")
@click.option("--subject-type", type=click.Choice(["pairwise", "public"]), default="pairwise", show_default=True)
@click.option("--require-consent", is_flag=True, help="Ask people to consent before sharing their data.")
@click.option("--id-token-alg", type=click.Choice(["ES256", "RS256"]), help="Default: OIDC_DEFAULT_ID_TOKEN_ALG.")
@click.option("--jwks-file", type=click.File("r"), help="Public JWKS (JSON) for private_key_jwt.")
@click.option("--client-id", help="Choose the client_id instead of a random one.")
@click.option("--sector-identifier", help="Host that pairwise subjects derive from.")
@click.option("--scope", help="Space-separated scopes the client may ask for.")
@json_option
@in_app
def clients_create(
    name, redirect_uris, post_logout_redirect_uris, grant_types, auth_method, is_public,
    subject_type, require_consent, id_token_alg, jwks_file, client_id, sector_identifier, scope, as_json,
) -> None:
    """Register a client. The secret is printed once: it is stored only as a keyed hash."""
    from idp.extensions import db as database

    jwks = _read_jwks(jwks_file) if jwks_file else None
    options: dict[str, Any] = {}
    if grant_types:
        options["grant_types"] = grant_types
    if scope:
        options["scope"] = scope
    client, plain_secret = _client_service().create(
        name=name,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout_redirect_uris,
        auth_method=auth_method or ("none" if is_public else "client_secret_basic"),
        is_public=is_public,
        subject_type=subject_type,
        require_consent=require_consent,
        id_token_alg=id_token_alg,
        jwks=jwks,
        client_id=client_id,
        sector_identifier=sector_identifier,
        **options,
    )
    database.session.commit()
    if as_json:
        _print_json({"client_id": client.client_id, "client_secret": plain_secret})
        return
    click.echo(f"client_id      {client.client_id}")
    if plain_secret:
        click.echo(f"client_secret  {plain_secret}")
        click.echo("Store the secret now: it cannot be shown again (`idp clients rotate-secret` makes a new one).")


def _read_jwks(handle) -> dict[str, Any]:
    try:
        return json.load(handle)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--jwks-file") from None


@clients.command("list")
@json_option
@in_app
def clients_list(as_json: bool) -> None:
    """List every client."""
    found = _client_service().list()
    if as_json:
        _print_json([_client_dict(client) for client in found])
        return
    if not found:
        click.echo("no clients")
    for client in found:
        click.echo(f"{client.client_id:24} {client.token_endpoint_auth_method:20} {client.name}")


@clients.command("show")
@click.argument("client_id")
@json_option
@in_app
def clients_show(client_id: str, as_json: bool) -> None:
    """Show one client's registration."""
    client = _client_service().get(client_id)
    if as_json:
        _print_json(_client_dict(client))
    else:
        _echo_client(client)


@clients.command("delete")
@click.argument("client_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@in_app
def clients_delete(client_id: str, yes: bool) -> None:
    """Delete a client and revoke everything issued to it."""
    from idp.extensions import db as database

    service = _client_service()
    service.get(client_id)
    if not yes and sys.stdin.isatty():
        click.confirm(f"Delete client {client_id} and revoke its tokens?", abort=True)
    service.delete(client_id)
    database.session.commit()
    click.echo(f"deleted {client_id}")


@clients.command("rotate-secret")
@click.argument("client_id")
@json_option
@in_app
def clients_rotate_secret(client_id: str, as_json: bool) -> None:
    """Replace a client's secret; the old one stops working at once."""
    from idp.extensions import db as database

    plain_secret = _client_service().rotate_secret(client_id)
    database.session.commit()
    if as_json:
        _print_json({"client_id": client_id, "client_secret": plain_secret})
    else:
        click.echo(f"client_secret  {plain_secret}")


# --- idp users ------------------------------------------------------------------------


def _account_service():
    from idp.accounts.services import AccountService

    session, context = _services()
    return AccountService(session, context.settings, context.clock, context.passwords)


@main.group()
def users() -> None:
    """Manage people's accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (required).")
@json_option
@in_app
def users_create(email: str, given_name: str, family_name: str, password_stdin: bool, as_json: bool) -> None:
    """Create an account. The password comes on stdin so it never shows in `ps` or shell history."""
    from idp.extensions import db as database

    if not password_stdin:
        raise click.UsageError("give the password on standard input with --password-stdin")
    # Only the line ending is dropped: leading or trailing spaces may be part of a password.
    plain_password = sys.stdin.read().rstrip("\r\n")
    if not plain_password:
        raise click.ClickException("no password on standard input")
    user = _account_service().create_user(email, given_name, family_name, plain_password)
    database.session.commit()
    if as_json:
        _print_json({"id": user.id, "email": user.email, "subject": user.subject})
    else:
        click.echo(f"created {user.email} (id {user.id})")


# --- idp keys -------------------------------------------------------------------------


def _key_service():
    from idp.oidc.keys import KeyService

    session, context = _services()
    return KeyService(session, context.settings, context.clock, context.secret_box)


def _key_dict(key, now: datetime) -> dict[str, Any]:
    if key.retire_after is not None and key.retire_after <= now:
        state = "retired"
    elif key.activates_at > now:
        state = "published"
    elif key.superseded_at is not None and key.superseded_at <= now:
        state = "verifying"
    else:
        state = "signing"
    return {
        "kid": key.kid,
        "alg": key.alg,
        "state": state,
        "created_at": key.created_at,
        "activates_at": key.activates_at,
        "superseded_at": key.superseded_at,
        "retire_after": key.retire_after,
    }


def _echo_keys(keys, as_json: bool) -> None:
    _, context = _services()
    rows = [_key_dict(key, context.clock()) for key in keys]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        click.echo("no signing keys yet (the first request creates them, or run `idp keys rotate`)")
    for row in rows:
        click.echo(f"{row['alg']:6} {row['state']:9} {row['kid']}  activates {row['activates_at'].isoformat()}")


@main.group()
def keys() -> None:
    """Inspect and rotate the ID token signing keys."""


@keys.command("list")
@json_option
@in_app
def keys_list(as_json: bool) -> None:
    """List signing keys and their state: published, signing, verifying or retired."""
    _echo_keys(_key_service().list(), as_json)


@keys.command("rotate")
@click.option("--now", "immediately", is_flag=True, help="Emergency: sign with the new key at once.")
@json_option
@in_app
def keys_rotate(immediately: bool, as_json: bool) -> None:
    """Publish a new key per algorithm; it signs after OIDC_KEY_PUBLISH_AHEAD seconds."""
    from idp.extensions import db as database

    created = _key_service().rotate(publish_ahead=0 if immediately else None)
    database.session.commit()
    _echo_keys(created if isinstance(created, list) else [created], as_json)


# --- idp demo -------------------------------------------------------------------------


@main.command("demo")
@json_option
@in_app
def demo(as_json: bool) -> None:
    """Development only: ensure the demo client and user, with fresh credentials each run."""
    from idp.extensions import db as database
    from idp.oidc.errors import ClientNotFound

    _, context = _services()
    if context.settings.ENV == "production":
        raise click.ClickException("`idp demo` refuses to run in production: it creates known accounts")
    clients_service = _client_service()
    try:
        clients_service.get(DEMO_CLIENT_ID)
    except ClientNotFound:
        clients_service.create(
            name="Demo relying party",
            redirect_uris=[f"{DEMO_RP_URL}/callback"],
            post_logout_redirect_uris=[f"{DEMO_RP_URL}/"],
            client_id=DEMO_CLIENT_ID,
        )
    client_secret = clients_service.rotate_secret(DEMO_CLIENT_ID)
    password = secrets.token_urlsafe(12)
    accounts = _account_service()
    user = accounts.find_by_email(DEMO_USER_EMAIL)
    if user is None:
        accounts.create_user(DEMO_USER_EMAIL, "Dominique", "Demo", password)
    else:
        # A fresh password each run, so the printed one is always the one that works.
        user.password_hash = context.passwords.hash(password)
        user.updated_at = context.clock()
    database.session.commit()
    data = {
        "issuer": context.settings.OIDC_ISSUER,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": client_secret,
        "redirect_uri": f"{DEMO_RP_URL}/callback",
        "email": DEMO_USER_EMAIL,
        "password": password,
    }
    if as_json:
        _print_json(data)
        return
    click.echo(f"Issuer         {data['issuer']}")
    click.echo(f"Demo client    {DEMO_CLIENT_ID} / {client_secret}  (relying party at {DEMO_RP_URL})")
    click.echo(f"Demo user      {DEMO_USER_EMAIL} / {password}")


if __name__ == "__main__":
    main()
