"""`idp demo`: the development demo client and user that `make run` prints."""

from __future__ import annotations

import secrets

import click

from idp.cli.base import in_app, json_option, print_json, services
from idp.cli.clients import client_service
from idp.cli.users import account_service

DEMO_CLIENT_ID = "demo-rp"
DEMO_RP_URL = "http://127.0.0.1:5001"
DEMO_USER_EMAIL = "demo@passerelle.test"


def ensure_demo_person(context, email: str, given_name: str, family_name: str) -> str:
    """Create the demo person, or give them a fresh password, so the printed one is always
    the one that works. Returns that password; the caller commits."""
    password = secrets.token_urlsafe(12)
    accounts = account_service()
    person = accounts.find_by_email(email)
    if person is None:
        accounts.create_user(email, given_name, family_name, password)
    else:
        person.password_hash = context.passwords.hash(password)
        person.updated_at = context.clock()
    return password


@click.command("demo")
@json_option
@in_app
def demo(as_json: bool) -> None:
    """Development only: ensure the demo client and user, with fresh credentials each run."""
    from idp.extensions import db as database
    from idp.oidc.errors import ClientNotFound

    _, context = services()
    if context.settings.ENV == "production":
        raise click.ClickException("`idp demo` refuses to run in production: it creates known accounts")
    clients_service = client_service()
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
    password = ensure_demo_person(context, DEMO_USER_EMAIL, "Dominique", "Demo")
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
        print_json(data)
        return
    click.echo(f"Issuer         {data['issuer']}")
    click.echo(f"Demo client    {DEMO_CLIENT_ID} / {client_secret}  (relying party at {DEMO_RP_URL})")
    click.echo(f"Demo user      {DEMO_USER_EMAIL} / {password}")
