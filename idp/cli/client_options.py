"""The `idp clients create|update` options that come in groups (PKCE, PAR, request objects,
DPoP, single sign-out): declared once, shared by both commands."""

from __future__ import annotations

import click

PKCE_OPTION = click.option(
    "--pkce/--no-pkce", "require_pkce", default=None,
    help="Require PKCE on every authorization request (the default). --no-pkce only for a legacy "
         "confidential client that cannot send it; public clients always use it.",
)


def logout_options(command):
    """Single sign-out (issue 14; docs/oidc.md, Back-channel logout and Front-channel logout)."""
    for option in reversed((
        click.option("--backchannel-logout-uri",
                     help='Where `idp worker` POSTs a logout token when a session the client signed into ends '
                          '(https; http only on loopback; no fragment). "" removes it on update.'),
        click.option("--backchannel-logout-session-required/--no-backchannel-logout-session-required",
                     default=None, help="The client needs `sid` in logout tokens (always sent)."),
        click.option("--frontchannel-logout-uri",
                     help='The page the signed-out page loads in an iframe (https; http only on loopback). '
                          '"" removes it on update.'),
        click.option("--frontchannel-logout-session-required/--no-frontchannel-logout-session-required",
                     default=None, help="Add iss and sid to the front-channel logout URI."),
    )):
        command = option(command)
    return command


REQUIRE_PAR_OPTION = click.option(
    "--require-par/--no-require-par", "require_par", default=None,
    help="Accept this client's authorization requests only through the pushed authorization request "
         "endpoint (RFC 9126; docs/oidc.md, Pushed authorization requests).",
)


def request_object_options(command):
    """Signed request objects (JAR, RFC 9101; docs/oidc.md, Signed request objects)."""
    for option in reversed((
        click.option("--jwks-uri", help='Where the client publishes its public keys (https), instead of --jwks-file. '
                                        '"" removes it on update.'),
        click.option("--require-signed-request-object/--no-require-signed-request-object", default=None,
                     help="Accept this client's authorization requests only in request objects signed with its keys."),
        click.option("--allow-unsigned-request-objects/--no-allow-unsigned-request-objects", default=None,
                     help="Accept request objects with alg none from this client (refused by default)."),
    )):
        command = option(command)
    return command


def dpop_options(command):
    """DPoP-bound tokens (RFC 9449; docs/oidc.md, DPoP)."""
    for option in reversed((
        click.option("--require-dpop/--no-require-dpop", "dpop_bound_access_tokens", default=None,
                     help="Refuse this client's token requests without a DPoP proof: every token it gets is "
                          "bound to its key (dpop_bound_access_tokens)."),
        click.option("--require-dpop-nonce/--no-require-dpop-nonce", "dpop_require_nonce", default=None,
                     help="This client's DPoP proofs must carry a nonce from Passerelle (DPoP-Nonce), "
                          "whatever OIDC_DPOP_REQUIRE_NONCE says."),
    )):
        command = option(command)
    return command
