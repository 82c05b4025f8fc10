"""`idp partners`: the sign-in partners Passerelle read from PARTNERS_FILE, and a check of
each partner's discovery document and keys (issue 5, Partners)."""

from __future__ import annotations

import click

from idp.cli.base import in_app, json_option, print_json


def _partners():
    from flask import current_app

    return current_app.extensions["idp_partners"]


def _describe(partner) -> dict:
    return {
        "id": partner.id, "enabled": partner.enabled, "names": dict(partner.names), "issuer": partner.issuer,
        "client_id": partner.client_id, "auth_method": partner.auth_method, "scopes": list(partner.scopes), "default_acr": partner.default_acr,
        "acr_map": dict(partner.acr_map), "amr_map": dict(partner.amr_map),
    }


@click.group()
def partners() -> None:
    """Sign-in partners (upstream OpenID Connect providers)."""


@partners.command("list")
@json_option
@in_app
def list_partners(as_json: bool) -> None:
    """The partners of PARTNERS_FILE, enabled or not (secrets are never shown)."""
    described = [_describe(partner) for partner in _partners().values()]
    if as_json:
        print_json(described)
        return
    if not described:
        click.echo("no sign-in partners (PARTNERS_FILE is empty)")
    for row in described:
        state = "enabled" if row["enabled"] else "disabled"
        click.echo(f"{row['id']}\t{state}\t{row['issuer']}\t{row['names']['fr']} / {row['names']['en']}")


@partners.command("check")
@json_option
@in_app
def check(as_json: bool) -> None:
    """Fetch each enabled partner's discovery document and keys, and report. Exits 1 if one
    fails."""
    from idp.context import app_context
    from idp.federation.errors import FederationError
    from idp.federation.upstream import PartnerClient, PartnerMetadataCache

    settings = app_context().settings
    results = []
    for partner in _partners().values():
        if not partner.enabled:
            continue
        client = PartnerClient(partner, PartnerMetadataCache(60, 0), settings.PARTNER_HTTP_TIMEOUT)
        result = {"id": partner.id, "issuer": partner.issuer, "ok": False}
        try:
            metadata = client.metadata()
            keys = client.keys()
        except FederationError as error:
            result["problem"] = f"{type(error).__name__}: {error}"
        else:
            supported = metadata.get("code_challenge_methods_supported") or []
            result.update(
                ok=True, keys=len(keys.keys), pkce_s256="S256" in supported,
                iss_parameter=metadata.get("authorization_response_iss_parameter_supported") is True,
            )
        results.append(result)
    if as_json:
        print_json(results)
    else:
        for result in results:
            if result["ok"]:
                click.echo(f"{result['id']}\tok\t{result['keys']} keys"
                           f"\tPKCE S256 {'announced' if result['pkce_s256'] else 'not announced'}"
                           f"\tiss parameter {'announced' if result['iss_parameter'] else 'not announced'}")
            else:
                click.echo(f"{result['id']}\tFAILED\t{result['problem']}")
        if not results:
            click.echo("no enabled sign-in partners")
    if any(not result["ok"] for result in results):
        raise click.exceptions.Exit(1)


DEMO_BANK_CLIENT_ID = "passerelle"
DEMO_BANK_CUSTOMER = "client@banque-imaginaire.test"


@partners.command("demo-bank")
@click.option("--broker", default="http://localhost:5000", show_default=True,
              help="The issuer of the Passerelle that signs people in with this bank.")
@json_option
@in_app
def demo_bank(broker: str, as_json: bool) -> None:
    """Development only, run with the bank's settings: make this Passerelle the demo sign-in
    partner "Banque Imaginaire", with Passerelle as its client and a demo customer. Fresh
    secret and password each run."""
    from idp.cli.clients import client_service
    from idp.cli.demo import ensure_demo_person
    from idp.context import app_context
    from idp.extensions import db
    from idp.oidc.errors import ClientNotFound

    context = app_context()
    if context.settings.ENV == "production":
        raise click.ClickException("`idp partners demo-bank` refuses to run in production: it creates known accounts")
    clients = client_service()
    try:
        clients.get(DEMO_BANK_CLIENT_ID)
    except ClientNotFound:
        clients.create(name="Passerelle", redirect_uris=[f"{broker}/signin/partners/callback"], client_id=DEMO_BANK_CLIENT_ID)
    secret = clients.rotate_secret(DEMO_BANK_CLIENT_ID)
    password = ensure_demo_person(context, DEMO_BANK_CUSTOMER, "Camille", "Cliente")
    db.session.commit()
    data = {"issuer": context.settings.OIDC_ISSUER, "client_id": DEMO_BANK_CLIENT_ID, "client_secret": secret,
            "email": DEMO_BANK_CUSTOMER, "password": password}
    if as_json:
        print_json(data)
        return
    click.echo(f"Bank           {data['issuer']}")
    click.echo(f"Client         {DEMO_BANK_CLIENT_ID} / {secret}")
    click.echo(f"Customer       {DEMO_BANK_CUSTOMER} / {password}")
