"""Dynamic client registration (RFC 7591/7592, issue 14): off by default; single-use initial
access tokens from `idp clients initial-token`; the checks of `idp clients create`; a
registration access token to read, update and delete; bad input refused, never a 500."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from idp.cli import main
from idp.extensions import db
from idp.oidc.models import Client, InitialAccessToken
from tests.integration.oidc.test_code_flow import exchange
from tests.oidc_support import PKCE_VERIFIER, RegisteredClient, SignIn, authorization_params, make_user

enabled = pytest.mark.settings(OIDC_DYNAMIC_REGISTRATION=True)
REDIRECT = "https://rp.example/callback"


def initial_token(app, expires_in="1h") -> str:
    result = CliRunner().invoke(main, ["clients", "initial-token", "--expires-in", expires_in, "--json"], obj=app)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["initial_access_token"]


def register(http, token, **metadata):
    body = {"client_name": "Portail inscrit", "redirect_uris": [REDIRECT], **metadata}
    body = {key: value for key, value in body.items() if value is not None}
    return http.post("/register", json=body, headers={"Authorization": f"Bearer {token}"} if token else {})


def refused(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == error, body
    assert response.headers["Cache-Control"] == "no-store"
    return body


def test_registration_is_off_by_default(app, client):
    assert "registration_endpoint" not in client.get("/.well-known/openid-configuration").get_json()
    assert register(client, initial_token(app)).status_code == 404
    assert client.get("/register/abc").status_code == 404


@enabled
def test_a_registered_client_signs_people_in(app, client):
    make_user(app)
    assert client.get("/.well-known/openid-configuration").get_json()["registration_endpoint"] == \
        "http://127.0.0.1:5000/register"
    response = register(client, initial_token(app), scope="openid email")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["client_secret"] and body["registration_access_token"]
    assert body["registration_client_uri"] == f"http://127.0.0.1:5000/register/{body['client_id']}"
    assert body["redirect_uris"] == [REDIRECT] and body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["subject_type"] == "pairwise" and body["client_secret_expires_at"] == 0
    rp = RegisteredClient(body["client_id"], body["client_secret"], REDIRECT)
    result = SignIn(client).code_for(authorization_params(rp, scope="openid email"))
    tokens = exchange(client, rp, result["code"], PKCE_VERIFIER).get_json()
    assert tokens["scope"] == "openid email"
    with app.app_context():
        record = db.session.scalar(select(Client).where(Client.client_id == rp.client_id))
        # Nobody vetted it: people are asked, and the tokens are kept only as keyed hashes.
        assert record.require_consent is True
        assert body["registration_access_token"] not in record.registration_access_token_hash


@enabled
def test_an_initial_access_token_is_single_use_and_expires(app, client, clock):
    token = initial_token(app)
    assert register(client, token).status_code == 201
    refused(register(client, token), 401, "invalid_token")
    late = initial_token(app, "60")
    clock.advance(61)
    refused(register(client, late), 401, "invalid_token")
    refused(register(client, None), 401, "invalid_token")
    refused(register(client, "made-up"), 401, "invalid_token")
    with app.app_context():
        stored = db.session.scalars(select(InitialAccessToken.token_hash)).all()
        assert token not in stored and len(stored) == 2


@enabled
@pytest.mark.parametrize(("metadata", "error"), [
    ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["http://rp.example/callback"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://rp.example/callback#frag"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://*.rp.example/callback"]}, "invalid_redirect_uri"),
    ({"redirect_uris": "https://rp.example/callback"}, "invalid_redirect_uri"),
    ({"redirect_uris": []}, "invalid_redirect_uri"),
    ({"scope": "openid organization"}, "invalid_client_metadata"),
    ({"scope": "openid invitations"}, "invalid_client_metadata"),
    ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
    ({"grant_types": ["implicit"]}, "invalid_client_metadata"),
    ({"response_types": ["token"]}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": "tls_client_auth"}, "invalid_client_metadata"),
    ({"subject_type": "public"}, "invalid_client_metadata"),
    ({"sector_identifier_uri": "https://rp.example/sector.json"}, "invalid_client_metadata"),
    ({"client_name": None}, "invalid_client_metadata"),
    ({"client_name": {"fr": "x"}}, "invalid_client_metadata"),
    ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
    ({"backchannel_logout_uri": "javascript:alert(1)"}, "invalid_client_metadata"),
    ({"software_statement": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}, "unapproved_software_statement"),
])
def test_bad_metadata_is_refused_and_keeps_the_token(app, client, metadata, error):
    token = initial_token(app)
    refused(register(client, token, **metadata), 400, error)
    assert register(client, token).status_code == 201  # the refusal did not spend it


@enabled
def test_bodies_that_are_not_a_small_json_object_are_refused(app, client):
    token = initial_token(app)
    headers = {"Authorization": f"Bearer {token}"}
    huge = {"client_name": "x", "redirect_uris": [REDIRECT], "padding": "x" * 100_000}
    refused(client.post("/register", json=huge, headers=headers), 413, "invalid_request")
    refused(client.post("/register", data="client_name=x", headers=headers), 400, "invalid_request")
    refused(client.post("/register", data="{not json", content_type="application/json", headers=headers),
            400, "invalid_client_metadata")
    refused(client.post("/register", json=[REDIRECT], headers=headers), 400, "invalid_client_metadata")
    assert register(client, token).status_code == 201


@enabled
def test_the_registration_access_token_reads_updates_and_deletes(app, client):
    created = register(client, initial_token(app)).get_json()
    uri = "/register/" + created["client_id"]
    auth = {"Authorization": "Bearer " + created["registration_access_token"]}

    read = client.get(uri, headers=auth)
    assert read.status_code == 200 and read.get_json()["redirect_uris"] == [REDIRECT]
    assert "client_secret" not in read.get_json() and "registration_access_token" not in read.get_json()
    refused(client.get(uri, headers={"Authorization": "Bearer wrong"}), 401, "invalid_token")
    other = register(client, initial_token(app)).get_json()
    refused(client.get(uri, headers={"Authorization": "Bearer " + other["registration_access_token"]}),
            401, "invalid_token")

    update = {**read.get_json(), "redirect_uris": [REDIRECT, "https://rp.example/other"], "client_name": "Nouveau nom"}
    for name in ("registration_client_uri", "client_id_issued_at", "client_secret_expires_at"):
        del update[name]
    changed = client.put(uri, json=update, headers=auth)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["redirect_uris"] == [REDIRECT, "https://rp.example/other"]
    assert changed.get_json()["client_name"] == "Nouveau nom"
    refused(client.put(uri, json={**update, "redirect_uris": ["javascript:alert(1)"]}, headers=auth),
            400, "invalid_redirect_uri")
    refused(client.put(uri, json={**update, "token_endpoint_auth_method": "none"}, headers=auth),
            400, "invalid_client_metadata")
    refused(client.put(uri, json={**update, "client_id": other["client_id"]}, headers=auth), 400, "invalid_client_metadata")
    refused(client.put(uri, json={**update, "redirect_uris": ["https://elsewhere.example/cb"]}, headers=auth),
            400, "invalid_redirect_uri")

    deleted = client.delete(uri, headers=auth)
    assert deleted.status_code == 204
    refused(client.get(uri, headers=auth), 401, "invalid_token")
    with app.app_context():
        assert db.session.scalar(select(Client).where(Client.client_id == created["client_id"])) is None


@enabled
def test_operator_clients_cannot_be_managed_through_the_endpoint(app, client):
    result = CliRunner().invoke(main, ["clients", "create", "--name", "Op", "--redirect-uri", REDIRECT, "--json"], obj=app)
    client_id = json.loads(result.output)["client_id"]
    refused(client.get(f"/register/{client_id}", headers={"Authorization": "Bearer x"}), 401, "invalid_token")
    refused(client.delete(f"/register/{client_id}"), 401, "invalid_token")


@pytest.mark.parametrize("expires_in", ["0", "soon", "-5", "100d"])
def test_initial_tokens_need_a_sensible_lifetime(app, expires_in):
    result = CliRunner().invoke(main, ["clients", "initial-token", "--expires-in", expires_in], obj=app)
    assert result.exit_code != 0
