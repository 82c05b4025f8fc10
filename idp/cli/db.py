"""`idp db`: create or upgrade the schema with the Alembic migrations in idp/migrations."""

from __future__ import annotations

from pathlib import Path

import click

from idp.cli.base import in_app, json_option, print_json


@click.group()
def db() -> None:
    """Create or upgrade the database schema (Alembic)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@in_app
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to date. Safe to run on every deploy."""
    from idp.extensions import db as database
    from idp.migrations import current_revision, upgrade

    from alembic.util import CommandError

    from idp.context import app_context

    _ensure_sqlite_directory(database.engine.url)
    try:
        with database.engine.begin() as connection:
            upgrade(connection, revision)
            now_at = current_revision(connection)
    except CommandError as error:
        hint = ""
        if app_context().settings.ENV != "production" and database.engine.url.get_backend_name() == "sqlite":
            # Development databases from before a migration was rewritten: they hold only demo data.
            hint = f" (a development database can simply be deleted: {database.engine.url.database})"
        raise click.ClickException(f"{error}{hint}") from None
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
        print_json({"revision": revision})
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
