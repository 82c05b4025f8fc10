"""Pushed authorization requests (RFC 9126, issue 14): the endpoint authenticates the client
as /token does and checks every parameter as /authorize does; the request_uri it returns is
spent once, by the same client, within 60 seconds; some clients must use it."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from idp import create_app
from idp.cli import main
from idp.extensions import db
from tests.conftest import build_app
from tests.integration.oidc.test_code_flow import decode_id_token, exchange
from tests.oidc_support import (
    SignIn,
    authorization_params,
    basic_auth,
    make_client,
    make_user,
    query_of,
)

PREFIX = "urn:ietf:params:oauth:request_uri:"


def push(http, rp, **extra):
    params = authorization_params(rp, **extra)
    params.pop("client_id")  # HTTP Basic names the client (RFC 9126 §2.1's example)
    return http.post("/par", data=params, headers=basic_auth(rp)), params


def refused_page(response, error: str) -> None:
    assert response.status_code == 400, response.status_code
    assert "Location" not in response.headers
    assert error in response.get_data(as_text=True)


def test_discovery_advertises_the_endpoint(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["pushed_authorization_request_endpoint"] == "http://127.0.0.1:5000/par"
    assert metadata["require_pushed_authorization_requests"] is False


def test_a_pushed_request_signs_in_with_its_own_parameters(app, client):
    make_user(app)
    rp = make_client(app)
    response, params = push(client, rp, scope="openid email")
    assert response.status_code == 201
    body = response.get_json()
    assert body["request_uri"].startswith(PREFIX) and len(body["request_uri"]) > len(PREFIX) + 40
    assert body["expires_in"] == 60
    assert response.headers["Cache-Control"] == "no-store"

    result = SignIn(client).code_for({"client_id": rp.client_id, "request_uri": body["request_uri"]})
    assert result["state"] == params["state"]
    tokens = exchange(client, rp, result["code"]).get_json()
    assert tokens["scope"] == "openid email"
    assert decode_id_token(client, tokens["id_token"])["nonce"] == params["nonce"]


def authorize_with(http, rp, request_uri):
    return http.get("/authorize", query_string={"client_id": rp.client_id, "request_uri": request_uri})


def test_a_request_uri_is_spent_once(app, client):
    make_user(app)
    rp = make_client(app)
    request_uri = push(client, rp)[0].get_json()["request_uri"]
    first = authorize_with(client, rp, request_uri)
    assert first.status_code in (302, 303)
    refused_page(authorize_with(client, rp, request_uri), "invalid_request_uri")


def test_a_request_uri_expires_after_60_seconds(app, client, clock):
    rp = make_client(app)
    request_uri = push(client, rp)[0].get_json()["request_uri"]
    clock.advance(61)
    refused_page(authorize_with(client, rp, request_uri), "invalid_request_uri")


def test_a_request_uri_is_refused_to_another_client_and_stays_its_clients(app, client):
    rp = make_client(app)
    other = make_client(app, name="Autre portail")
    request_uri = push(client, rp)[0].get_json()["request_uri"]
    refused_page(authorize_with(client, other, request_uri), "invalid_request_uri")
    assert authorize_with(client, rp, request_uri).status_code in (302, 303)


@pytest.mark.parametrize("request_uri", [PREFIX + "unknown", "https://rp.example/request.jwt", "", "x" * 5000])
def test_an_unknown_request_uri_gets_a_page(app, client, request_uri):
    rp = make_client(app)
    response = authorize_with(client, rp, request_uri)
    assert response.status_code == 400 and "Location" not in response.headers


def test_request_and_request_uri_together_are_refused(app, client):
    rp = make_client(app)
    request_uri = push(client, rp)[0].get_json()["request_uri"]
    response = client.get("/authorize", query_string={"client_id": rp.client_id, "request_uri": request_uri,
                                                      "request": "e30.e30."})
    assert response.status_code == 400 and "Location" not in response.headers


def json_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert "Location" not in response.headers
    body = response.get_json()
    assert body["error"] == error
    assert "state" not in body
    return body


def test_a_pushed_request_carrying_a_request_uri_is_refused(app, client):
    rp = make_client(app)
    response, _ = push(client, rp, request_uri=PREFIX + "abc")
    json_error(response, 400, "invalid_request")


def test_the_client_must_authenticate_as_at_the_token_endpoint(app, client):
    rp = make_client(app)
    params = authorization_params(rp)
    json_error(client.post("/par", data=params), 401, "invalid_client")
    wrong = basic_auth(rp)["Authorization"][:-4] + "AAAA"
    json_error(client.post("/par", data=params, headers={"Authorization": wrong}), 401, "invalid_client")
    both = {**params, "client_secret": rp.client_secret}
    json_error(client.post("/par", data=both, headers=basic_auth(rp)), 400, "invalid_request")
    other = make_client(app, name="Autre portail")
    json_error(client.post("/par", data={**params, "client_id": other.client_id}, headers=basic_auth(rp)),
               401, "invalid_client")


@pytest.mark.parametrize(("extra", "error"), [
    ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),
    ({"redirect_uri": None}, "invalid_request"),
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"prompt": "sometimes"}, "invalid_request"),
    ({"max_age": "-1"}, "invalid_request"),
    ({"claims": "{not json"}, "invalid_request"),
    ({"response_mode": "fragment"}, "invalid_request"),
    ({"nonce": "n" * 600}, "invalid_request"),
    ({"state": "s" * 5000}, "invalid_request"),
    ({"id_token_hint": "not.a.token"}, "invalid_request"),
    ({"request": "e30.e30."}, "invalid_request_object"),
])
def test_every_parameter_is_checked_as_at_authorize(app, client, extra, error):
    rp = make_client(app)
    response, _ = push(client, rp, **extra)
    json_error(response, 400, error)


def test_a_pushed_request_needs_a_form_body(app, client):
    rp = make_client(app)
    response = client.post("/par", json=authorization_params(rp), headers=basic_auth(rp))
    json_error(response, 400, "invalid_request")
    params = authorization_params(rp)
    repeated = urlencode([*params.items(), ("scope", "openid email")])
    response = client.post("/par", data=repeated, content_type="application/x-www-form-urlencoded",
                           headers=basic_auth(rp))
    json_error(response, 400, "invalid_request")


def test_a_public_client_may_push_with_its_client_id(app, client):
    make_user(app)
    rp = make_client(app, is_public=True, auth_method="none")
    response = client.post("/par", data=authorization_params(rp))
    assert response.status_code == 201
    result = SignIn(client).code_for({"client_id": rp.client_id, "request_uri": response.get_json()["request_uri"]})
    assert "code" in result


def test_a_client_that_requires_par_is_refused_a_plain_request(app, client):
    make_user(app)
    rp = make_client(app, require_pushed_authorization_requests=True)
    params = authorization_params(rp)
    response = client.get("/authorize", query_string=params)
    assert response.status_code == 303
    result = query_of(response.headers["Location"])
    assert result["error"] == "invalid_request" and result["state"] == params["state"]
    request_uri = push(client, rp)[0].get_json()["request_uri"]
    assert "code" in SignIn(client).code_for({"client_id": rp.client_id, "request_uri": request_uri})


def test_a_client_that_requires_par_and_sends_an_unregistered_redirect_uri_gets_a_page(app, client):
    rp = make_client(app, require_pushed_authorization_requests=True)
    response = client.get("/authorize", query_string=authorization_params(rp, redirect_uri="https://evil.example/cb"))
    assert response.status_code == 400 and "Location" not in response.headers


def test_operators_require_par_from_the_command_line(app):
    runner = CliRunner()
    created = runner.invoke(main, ["clients", "create", "--name", "FAPI", "--redirect-uri", "https://rp.example/cb",
                                   "--require-par", "--json"], obj=app)
    assert created.exit_code == 0, created.output
    client_id = json.loads(created.output)["client_id"]
    shown = runner.invoke(main, ["clients", "show", client_id, "--json"], obj=app)
    assert '"require_pushed_authorization_requests": true' in shown.output
    updated = runner.invoke(main, ["clients", "update", client_id, "--no-require-par", "--json"], obj=app)
    assert updated.exit_code == 0, updated.output
    assert '"require_pushed_authorization_requests": false' in updated.output


def test_a_request_uri_of_the_clients_own_is_not_fetched(app, client):
    rp = make_client(app)
    response = client.get("/authorize", query_string={**authorization_params(rp),
                                                      "request_uri": "https://rp.example/request.jwt"})
    assert query_of(response.headers["Location"])["error"] == "request_uri_not_supported"


def test_a_request_uri_pushed_to_one_host_is_spent_on_another_once(database_uri, clock):
    """Two apps on one database stand for two hosts behind a load balancer: the pushed
    request is in the database, not in a worker's memory."""
    first = build_app(database_uri, clock)
    # The second host: the same settings and database, without build_app's reset.
    second = create_app({name: first.config[name] for name in (
        "SQLALCHEMY_DATABASE_URI", "OIDC_ISSUER", "SMTP_HOST", "SMTP_PORT", "SQLALCHEMY_ENGINE_OPTIONS")}, clock=clock)
    second.test_client_class = first.test_client_class
    try:
        make_user(first)
        rp = make_client(first)
        request_uri = push(first.test_client(), rp)[0].get_json()["request_uri"]
        other_host = second.test_client()
        assert "code" in SignIn(other_host).code_for({"client_id": rp.client_id, "request_uri": request_uri})
        refused_page(authorize_with(first.test_client(), rp, request_uri), "invalid_request_uri")
    finally:
        for app in (first, second):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
