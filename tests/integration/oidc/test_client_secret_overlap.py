"""A secret rotated with an overlap (issue 16): wherever a client authenticates with
client_secret_basic or client_secret_post (token, introspection, revocation, pushed
authorization requests), the old secret works beside the new one until the overlap ends,
then only the new one does."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from idp.context import app_context
from idp.extensions import db
from idp.oidc.clients import ClientService
from tests.oidc_support import authorization_params, basic_auth, make_client


def rotate(app, client_id: str, overlap: timedelta) -> str:
    with app.app_context():
        ctx = app_context()
        plain = ClientService(db.session, ctx.settings, ctx.clock, ctx.hasher).rotate_secret(client_id, overlap)
        db.session.commit()
        return plain


def token(http, rp, post: bool = False):
    if post:
        return http.post("/token", data={"grant_type": "client_credentials", "client_id": rp.client_id,
                                          "client_secret": rp.client_secret})
    return http.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(rp))


def test_both_secrets_authenticate_everywhere_until_the_overlap_ends(app, client, clock):
    old = make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=(),
                      auth_method="client_secret_post")
    new = replace(old, client_secret=rotate(app, old.client_id, timedelta(hours=2)))
    for rp in (old, new):
        assert token(client, rp, post=True).status_code == 200
    clock.advance(hours=2)
    assert token(client, old, post=True).status_code == 401
    assert token(client, new, post=True).status_code == 200


def test_introspection_revocation_and_par_accept_the_previous_secret_during_the_overlap(app, client, clock):
    old = make_client(app, grant_types=("authorization_code", "client_credentials"))
    new = replace(old, client_secret=rotate(app, old.client_id, timedelta(minutes=30)))
    issued = token(client, new).get_json()["access_token"]
    for rp in (old, new):
        assert token(client, rp).status_code == 200
        introspected = client.post("/introspect", data={"token": issued}, headers=basic_auth(rp))
        assert introspected.status_code == 200 and introspected.get_json()["active"] is True
        params = authorization_params(rp)
        params.pop("client_id")
        assert client.post("/par", data=params, headers=basic_auth(rp)).status_code == 201
    assert client.post("/revoke", data={"token": token(client, old).get_json()["access_token"]},
                       headers=basic_auth(old)).status_code == 200
    clock.advance(minutes=30)
    assert token(client, old).status_code == 401
    assert client.post("/introspect", data={"token": issued}, headers=basic_auth(old)).status_code == 401
    assert client.post("/revoke", data={"token": issued}, headers=basic_auth(old)).status_code == 401
    params = authorization_params(old)
    params.pop("client_id")
    assert client.post("/par", data=params, headers=basic_auth(old)).status_code == 401
    assert token(client, new).status_code == 200


def test_a_rotation_without_overlap_ends_the_old_secret_at_once(app, client):
    old = make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=())
    new = replace(old, client_secret=rotate(app, old.client_id, timedelta(0)))
    assert token(client, old).status_code == 401
    assert token(client, new).status_code == 200


def test_the_cli_rotates_with_an_overlap_and_updates_consent_and_minimum_acr(app):
    from click.testing import CliRunner

    from idp.cli import main

    rp = make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=())

    def idp(*args):
        return CliRunner().invoke(main, list(args), obj=app, catch_exceptions=False)

    bad = idp("clients", "rotate-secret", rp.client_id, "--overlap", "soon")
    assert bad.exit_code == 2 and "--overlap" in bad.output
    too_long = idp("clients", "rotate-secret", rp.client_id, "--overlap", "31d")
    assert too_long.exit_code == 1 and "30 days" in too_long.output
    rotated = idp("clients", "rotate-secret", rp.client_id, "--overlap", "2h", "--json")
    assert rotated.exit_code == 0, rotated.output
    import json

    body = json.loads(rotated.output)
    assert body["previous_secret_expires_at"] and body["client_secret"] != rp.client_secret
    with app.app_context():
        ctx = app_context()
        service = ClientService(db.session, ctx.settings, ctx.clock, ctx.hasher)
        client = service.get(rp.client_id)
        assert service.is_secret_valid(client, rp.client_secret) and service.is_secret_valid(client, body["client_secret"])
    updated = idp("clients", "update", rp.client_id, "--require-consent", "--min-acr", "urn:passerelle:acr:mfa", "--json")
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.output)["require_consent"] is True
    assert json.loads(updated.output)["min_acr"] == "urn:passerelle:acr:mfa"
    removed = idp("clients", "update", rp.client_id, "--min-acr", "", "--json")
    assert json.loads(removed.output)["min_acr"] is None


def test_the_cli_disables_and_enables_a_client(app, client):
    from click.testing import CliRunner

    from idp.cli import main

    rp = make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=())

    def idp(*args):
        return CliRunner().invoke(main, list(args), obj=app, catch_exceptions=False)

    assert idp("clients", "disable", rp.client_id).output.strip() == f"disabled {rp.client_id}"
    assert "already disabled" in idp("clients", "disable", rp.client_id).output
    assert token(client, rp).status_code == 401
    assert '"disabled_at": "' in idp("clients", "show", rp.client_id, "--json").output
    assert idp("clients", "enable", rp.client_id).output.strip() == f"enabled {rp.client_id}"
    assert token(client, rp).status_code == 200
    assert idp("clients", "disable", "nobody").exit_code == 1
