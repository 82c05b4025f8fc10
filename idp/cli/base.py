"""Shared plumbing of the `idp` commands: the root group, app context, errors and output.

Each command builds the app with create_app() (so it reads exactly the settings gunicorn
reads), runs one service call inside an app context and commits. Services never commit;
commands, like views, own the transaction. Failures print a message and exit 1, never a
traceback.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from idp.config import ConfigError
from idp.oidc.errors import ClientError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Operate Passerelle: database, clients, users and signing keys.

    Settings come from IDP_CONFIG (a TOML file) and IDP_* environment variables, as for
    the server itself.
    """


def get_app(ctx: click.Context) -> Flask:
    """The app given by the caller (tests pass obj=app), else one built from the settings."""
    root = ctx.find_root()
    if not isinstance(root.obj, Flask):
        from idp import create_app

        try:
            root.obj = create_app()
        except ConfigError as error:
            raise click.ClickException(f"configuration refused: {error}") from None
    return root.obj


def error_message(error: Exception) -> str:
    """The exception's text, else the first line of its docstring (domain errors carry none)."""
    text = str(error)
    if text:
        return text
    doc = (type(error).__doc__ or type(error).__name__).strip().splitlines()[0]
    return doc


def domain_errors() -> tuple[type[Exception], ...]:
    from alembic.util import CommandError

    from idp.accounts.errors import AccountError
    from idp.orgs.errors import OrgError

    # CommandError: e.g. the database is at a revision this release does not know.
    return (ClientError, AccountError, OrgError, CommandError)


def in_app(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command inside an app context; turn known failures into a message and exit 1."""

    @functools.wraps(command)
    @click.pass_context
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        from idp.extensions import db

        app = get_app(ctx)
        with app.app_context():
            try:
                return ctx.invoke(command, *args, **kwargs)
            except domain_errors() as error:
                db.session.rollback()
                raise click.ClickException(error_message(error)) from None
            except SQLAlchemyError as error:
                db.session.rollback()
                summary = str(error.orig if getattr(error, "orig", None) else error).splitlines()[0]
                raise click.ClickException(
                    f"database error: {summary} (has `idp db upgrade` been run on this database?)"
                ) from None
            except (click.ClickException, click.exceptions.Exit, click.Abort):
                db.session.rollback()
                raise
            except Exception as error:
                # A bug or an unreadable state (e.g. signing keys under another
                # KEYS_ENCRYPTION_KEY): still one line for the operator, full detail on request.
                db.session.rollback()
                if os.environ.get("PASSERELLE_TRACEBACK"):
                    raise
                raise click.ClickException(
                    f"unexpected {type(error).__name__}: {error} (set PASSERELLE_TRACEBACK=1 for details)"
                ) from None

    return wrapper


def json_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(command)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=json_default))


def json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def services():
    """The collaborators services need, from the app being served."""
    from idp.context import app_context
    from idp.extensions import db

    return db.session, app_context()
