"""`idp keys`: list and rotate the ID token signing keys (KeyService)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from idp.cli.base import in_app, json_option, print_json, services


def key_service():
    from idp.oidc.keys import KeyService

    session, context = services()
    return KeyService(session, context.settings, context.clock, context.secret_box)


def _key_dict(key, now: datetime) -> dict[str, Any]:
    from idp.oidc.keys import key_state

    return {
        "kid": key.kid,
        "alg": key.alg,
        "state": key_state(key, now),
        "created_at": key.created_at,
        "activates_at": key.activates_at,
        "superseded_at": key.superseded_at,
        "retire_after": key.retire_after,
    }


def _echo_keys(keys, as_json: bool) -> None:
    _, context = services()
    rows = [_key_dict(key, context.clock()) for key in keys]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no signing keys yet (the first request creates them, or run `idp keys rotate`)")
    for row in rows:
        click.echo(f"{row['alg']:6} {row['state']:9} {row['kid']}  activates {row['activates_at'].isoformat()}")


@click.group()
def keys() -> None:
    """Inspect and rotate the ID token signing keys."""


@keys.command("list")
@json_option
@in_app
def keys_list(as_json: bool) -> None:
    """List signing keys and their state: published, signing, verifying or retired."""
    _echo_keys(key_service().list(), as_json)


@keys.command("rotate")
@click.option("--now", "immediately", is_flag=True, help="Emergency: sign with the new key at once.")
@json_option
@in_app
def keys_rotate(immediately: bool, as_json: bool) -> None:
    """Publish a new key per algorithm; it signs after OIDC_KEY_PUBLISH_AHEAD seconds."""
    from idp.extensions import db as database

    created = key_service().rotate(publish_ahead=0 if immediately else None)
    database.session.commit()
    _echo_keys(created if isinstance(created, list) else [created], as_json)
