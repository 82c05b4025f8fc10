"""`idp clients`: register relying parties and manage their secrets (ClientService)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click

from idp.cli.base import in_app, json_option, print_json, services
from idp.cli.client_options import (
    PKCE_OPTION,
    REQUIRE_PAR_OPTION,
    dpop_options,
    logout_options,
    request_object_options,
)
from idp.signin.assurance import ACR_VALUES_SUPPORTED


def client_service():
    from idp.oidc.clients import ClientService

    session, context = services()
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
        "initiate_login_uri": client.initiate_login_uri,
        "min_acr": client.min_acr,
        "require_pkce": client.require_pkce,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "backchannel_logout_session_required": client.backchannel_logout_session_required,
        "frontchannel_logout_uri": client.frontchannel_logout_uri,
        "frontchannel_logout_session_required": client.frontchannel_logout_session_required,
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
        "jwks_uri": client.jwks_uri,
        "require_signed_request_object": client.require_signed_request_object,
        "allow_unsigned_request_objects": client.allow_unsigned_request_objects,
        "profile": client.profile,
        "dpop_bound_access_tokens": client.dpop_bound_access_tokens,
        "dpop_require_nonce": client.dpop_require_nonce,
        "disabled_at": client.disabled_at,
        "previous_secret_expires_at": client.previous_secret_expires_at,
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


@click.group()
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
@click.option("--jwks-file", type=click.File("r"), help="Public JWKS (JSON): private_key_jwt, signed request objects.")
@click.option("--client-id", help="Choose the client_id instead of a random one.")
@click.option("--sector-identifier", help="Host that pairwise subjects derive from.")
@click.option("--scope", help="Space-separated scopes the client may ask for (add organization for the organization "
                               "claim; invitations or organizations for the APIs).")
@click.option("--initiate-login-uri", help="Where people this client invited go after registering (OIDC Core §4).")
@click.option(
    "--min-acr", type=click.Choice(list(ACR_VALUES_SUPPORTED)),
    help="Lowest assurance level accepted; weaker sessions are stepped up (docs/oidc.md).",
)
@PKCE_OPTION
@REQUIRE_PAR_OPTION
@request_object_options
@click.option("--profile", type=click.Choice(["fapi2"]),
              help="Apply a policy set: fapi2 = private_key_jwt (the default auth method then), PKCE, PAR, "
                   "signed request objects and DPoP required (docs/oidc.md, The fapi2 profile).")
@dpop_options
@logout_options
@json_option
@in_app
def clients_create(
    name, redirect_uris, post_logout_redirect_uris, grant_types, auth_method, is_public,
    subject_type, require_consent, id_token_alg, jwks_file, client_id, sector_identifier, scope,
    initiate_login_uri, min_acr, require_pkce, backchannel_logout_uri, backchannel_logout_session_required,
    frontchannel_logout_uri, frontchannel_logout_session_required, require_par, jwks_uri,
    require_signed_request_object, allow_unsigned_request_objects, profile, dpop_bound_access_tokens, dpop_require_nonce,
    as_json,
) -> None:
    """Register a client. The secret is printed once: it is stored only as a keyed hash."""
    from idp.extensions import db as database

    jwks = _read_jwks(jwks_file) if jwks_file else None
    options: dict[str, Any] = {}
    if grant_types:
        options["grant_types"] = grant_types
    if scope:
        options["scope"] = scope
    client, plain_secret = client_service().create(
        name=name,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout_redirect_uris,
        auth_method=auth_method or ("none" if is_public else "private_key_jwt" if profile else "client_secret_basic"),
        is_public=is_public,
        subject_type=subject_type,
        require_consent=require_consent,
        id_token_alg=id_token_alg,
        jwks=jwks,
        client_id=client_id,
        sector_identifier=sector_identifier,
        initiate_login_uri=initiate_login_uri,
        min_acr=min_acr,
        require_pkce=True if require_pkce is None else require_pkce,
        backchannel_logout_uri=backchannel_logout_uri or None,
        backchannel_logout_session_required=bool(backchannel_logout_session_required),
        frontchannel_logout_uri=frontchannel_logout_uri or None,
        frontchannel_logout_session_required=bool(frontchannel_logout_session_required),
        require_pushed_authorization_requests=bool(require_par),
        jwks_uri=jwks_uri or None,
        require_signed_request_object=bool(require_signed_request_object),
        allow_unsigned_request_objects=bool(allow_unsigned_request_objects),
        profile=profile,
        dpop_bound_access_tokens=bool(dpop_bound_access_tokens),
        dpop_require_nonce=bool(dpop_require_nonce),
        **options,
    )
    database.session.commit()
    if as_json:
        print_json({"client_id": client.client_id, "client_secret": plain_secret})
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
    found = client_service().list()
    if as_json:
        print_json([_client_dict(client) for client in found])
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
    client = client_service().get(client_id)
    if as_json:
        print_json(_client_dict(client))
    else:
        _echo_client(client)


@clients.command("update")
@click.argument("client_id")
@click.option("--scope", help="Replace the scopes the client may ask for (space-separated).")
@click.option("--require-consent/--no-require-consent", default=None,
              help="Ask people to consent before sharing their data with this client, or stop asking.")
@click.option("--min-acr", type=click.Choice(["", *ACR_VALUES_SUPPORTED]),
              help='Lowest assurance level accepted (weaker sessions are stepped up); "" removes it.')
@click.option("--initiate-login-uri", help='Where invited people go after registering; "" removes it.')
@PKCE_OPTION
@REQUIRE_PAR_OPTION
@click.option("--jwks-file", type=click.File("r"), help="Replace the client's public keys (JSON Web Key Set).")
@request_object_options
@click.option("--profile", type=click.Choice(["fapi2", "none"]),
              help="Apply the fapi2 policy set (the client must use private_key_jwt), or lift it (none).")
@dpop_options
@logout_options
@json_option
@in_app
def clients_update(client_id: str, scope: str | None, initiate_login_uri: str | None, require_pkce: bool | None,
                   require_par: bool | None, jwks_file, jwks_uri: str | None, require_signed_request_object: bool | None,
                   allow_unsigned_request_objects: bool | None, profile: str | None, dpop_bound_access_tokens: bool | None,
                   dpop_require_nonce: bool | None, as_json: bool, require_consent: bool | None = None,
                   min_acr: str | None = None, **logout: Any) -> None:
    """Change a client's scopes, consent, minimum acr, initiate_login_uri, PKCE requirement,
    policies or logout URIs."""
    from idp.extensions import db as database

    keys = {"jwks": _read_jwks(jwks_file) if jwks_file else None, "jwks_uri": jwks_uri,
            "require_signed_request_object": require_signed_request_object, "profile": profile,
            "allow_unsigned_request_objects": allow_unsigned_request_objects,
            "dpop_bound_access_tokens": dpop_bound_access_tokens, "dpop_require_nonce": dpop_require_nonce,
            "require_consent": require_consent, "min_acr": min_acr}
    if scope is None and initiate_login_uri is None and require_pkce is None and require_par is None and all(
            value is None for value in keys.values()) and all(
            value is None for value in logout.values()):
        raise click.UsageError("nothing to change: give --scope, --[no-]require-consent, --min-acr, "
                               "--initiate-login-uri, --pkce/--no-pkce "
                               "--require-par/--no-require-par, a key, request object or DPoP option (--jwks-file, --jwks-uri, --require-dpop, ...) "
                               "and/or a logout option (--backchannel-logout-uri, --frontchannel-logout-uri, ...)")
    client = client_service().update(client_id, scope=scope, initiate_login_uri=initiate_login_uri,
                                     require_pkce=require_pkce, require_pushed_authorization_requests=require_par,
                                     **keys, **logout)
    database.session.commit()
    if as_json:
        print_json(_client_dict(client))
    else:
        _echo_client(client)


@clients.command("delete")
@click.argument("client_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@in_app
def clients_delete(client_id: str, yes: bool) -> None:
    """Delete a client and revoke everything issued to it."""
    from idp.extensions import db as database

    service = client_service()
    service.get(client_id)
    if not yes and sys.stdin.isatty():
        click.confirm(f"Delete client {client_id} and revoke its tokens?", abort=True)
    service.delete(client_id)
    database.session.commit()
    click.echo(f"deleted {client_id}")


@clients.command("disable")
@click.argument("client_id")
@in_app
def clients_disable(client_id: str) -> None:
    """Make a client unknown to every endpoint and end every token and code it holds."""
    from idp.extensions import db as database

    changed = client_service().disable(client_id)
    database.session.commit()
    click.echo(f"disabled {client_id}" if changed else f"{client_id} was already disabled")


@clients.command("enable")
@click.argument("client_id")
@in_app
def clients_enable(client_id: str) -> None:
    """Let a disabled client sign people in again (nothing it held comes back)."""
    from idp.extensions import db as database

    changed = client_service().enable(client_id)
    database.session.commit()
    click.echo(f"enabled {client_id}" if changed else f"{client_id} was not disabled")


def _duration(value: str, option: str = "--expires-in") -> int:
    """Seconds from 3600, 90m, 24h or 7d."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (value[:-1], value[-1]) if value and value[-1] in units else (value, "s")
    if not number.isdigit():
        raise click.BadParameter("a number of seconds, or a number followed by s, m, h or d", param_hint=option)
    return int(number) * units[unit]


@clients.command("initial-token")
@click.option("--expires-in", default="24h", show_default=True, help="How long it may be used: 3600, 90m, 24h, 7d (90d at most).")
@json_option
@in_app
def clients_initial_token(expires_in: str, as_json: bool) -> None:
    """Issue a single-use initial access token for dynamic client registration (RFC 7591)."""
    from datetime import timedelta

    from idp.extensions import db as database
    from idp.oidc.registration import RegistrationService

    session, context = services()
    plain, record = RegistrationService(session, context.settings, context.clock, context.hasher).issue_initial_token(
        timedelta(seconds=_duration(expires_in)))
    database.session.commit()
    if as_json:
        print_json({"initial_access_token": plain, "expires_at": record.expires_at})
        return
    click.echo(f"initial_access_token  {plain}")
    click.echo(f"expires_at            {record.expires_at.isoformat()}")
    click.echo("Give it to one relying party: it registers one client, once (Authorization: Bearer ... on POST /register).")
    if not context.settings.OIDC_DYNAMIC_REGISTRATION:
        click.echo("Note: OIDC_DYNAMIC_REGISTRATION is off, so /register answers 404 until it is turned on.")


@clients.command("rotate-secret")
@click.argument("client_id")
@click.option("--overlap", default="0", show_default=True,
              help="How long the old secret keeps working beside the new one: 3600, 90m, 24h, 7d (30d at most). "
                   "0: it stops at once.")
@json_option
@in_app
def clients_rotate_secret(client_id: str, overlap: str, as_json: bool) -> None:
    """Replace a client's secret; the old one works until the overlap ends (at once by default)."""
    from datetime import timedelta

    from idp.extensions import db as database

    service = client_service()
    plain_secret = service.rotate_secret(client_id, timedelta(seconds=_duration(overlap, "--overlap")))
    client = service.get(client_id)
    database.session.commit()
    until = client.previous_secret_expires_at
    if as_json:
        print_json({"client_id": client_id, "client_secret": plain_secret, "previous_secret_expires_at": until})
    else:
        click.echo(f"client_secret  {plain_secret}")
        if until is not None:
            click.echo(f"The previous secret works until {until.isoformat()}.")
