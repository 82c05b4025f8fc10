"""Requests that must be refused whole (issue 9 item 7): a repeated authorization parameter,
two client authentication methods at once, a body client_id that is not the authenticated
client, PKCE skipped by a client that has not opted out, a registered redirect URI that walks
up a path, and bidi or invisible characters in an invitation's inviter_name."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import RSAKey

from idp.cli import main
from tests.integration.oidc.test_code_flow import exchange
from tests.invitations_support import access_token, bearer, make_api_client
from tests.oidc_support import (
    SignIn,
    authorization_params,
    basic_auth,
    make_client,
    make_user,
    pkce_pair,
    query_of,
)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# Repeated authorization parameters: a page, never a redirect --------------------------------

@pytest.mark.parametrize("name", ["response_mode", "nonce", "code_challenge", "prompt", "claims", "acr_values"])
def test_a_repeated_authorization_parameter_is_refused_on_a_page(app, client, name):
    rp = make_client(app)
    params = list(authorization_params(rp, code_challenge=pkce_pair()[1], code_challenge_method="S256").items())
    values = {"response_mode": ("query", "form_post"), "claims": ("{}", '{"id_token": {}}'),
              "prompt": ("login", "none"), "acr_values": ("a", "b")}.get(name, ("one", "two"))
    params += [(name, value) for value in values]
    response = client.get("/authorize?" + urlencode(params))
    assert response.status_code == 400
    assert "Location" not in response.headers
    # The person reads why, in their language (idp.oidc.error_messages).
    text = response.get_data(as_text=True)
    assert "Un paramètre figure plus d’une fois" in text or "A parameter appears more than once" in text


def test_a_parameter_in_both_the_query_and_the_body_is_repeated(app, client):
    rp = make_client(app)
    params = authorization_params(rp, code_challenge=pkce_pair()[1], code_challenge_method="S256")
    response = client.post("/authorize?" + urlencode({"nonce": "from-query"}), data=params)
    assert response.status_code == 400 and "Location" not in response.headers


# Client authentication: one method, one client ------------------------------------------------

def client_credentials_client(app):
    return make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=(),
                       scope="openid invitations")


def test_basic_and_post_credentials_in_one_request_are_invalid_request(app, client):
    rp = client_credentials_client(app)
    response = client.post("/token", headers=basic_auth(rp), data={
        "grant_type": "client_credentials", "client_id": rp.client_id, "client_secret": rp.client_secret})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_basic_credentials_and_an_assertion_in_one_request_are_invalid_request(app, client):
    rp = client_credentials_client(app)
    key = RSAKey.generate_key(2048)
    assertion = jwt.encode({"alg": "RS256"}, {"iss": rp.client_id, "sub": rp.client_id}, key)
    response = client.post("/token", headers=basic_auth(rp), data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_a_body_client_id_naming_another_client_is_invalid_client(app, client):
    rp = client_credentials_client(app)
    other = client_credentials_client(app)
    for path, data in (("/token", {"grant_type": "client_credentials"}), ("/introspect", {"token": "x"}),
                       ("/revoke", {"token": "x"})):
        response = client.post(path, headers=basic_auth(rp), data={**data, "client_id": other.client_id})
        assert response.status_code == 401, path
        assert response.get_json()["error"] == "invalid_client"
    same = client.post("/token", headers=basic_auth(rp), data={"grant_type": "client_credentials", "client_id": rp.client_id})
    assert same.status_code == 200, same.get_json()


# PKCE for every client, unless the operator opted one out --------------------------------------

def test_a_confidential_client_without_pkce_gets_invalid_request(app, client):
    make_user(app)
    rp = make_client(app)
    params = authorization_params(rp)
    params.pop("code_challenge", None)
    params.pop("code_challenge_method", None)
    response = client.get("/authorize?" + urlencode(params))
    assert response.status_code == 303 and response.headers["Location"].startswith(rp.redirect_uri)
    result = query_of(response.headers["Location"])
    assert result["error"] == "invalid_request" and "PKCE" in result["error_description"]


def test_a_client_opted_out_of_pkce_may_skip_it(app, client):
    make_user(app)
    rp = make_client(app, require_pkce=False)
    params = authorization_params(rp)
    params.pop("code_challenge", None)
    params.pop("code_challenge_method", None)
    code = SignIn(client).code_for(params)["code"]
    response = exchange(client, rp, code, verifier=None)
    assert response.status_code == 200, response.get_json()


def test_a_client_opted_out_of_pkce_that_uses_it_is_still_checked(app, client):
    make_user(app)
    rp = make_client(app, require_pkce=False)
    verifier, challenge = pkce_pair()
    code = SignIn(client).code_for(authorization_params(rp, code_challenge=challenge, code_challenge_method="S256"))["code"]
    response = exchange(client, rp, code, verifier="x" * 50)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


# The command line ------------------------------------------------------------------------------

def idp(app, *args):
    return CliRunner().invoke(main, list(args), obj=app, catch_exceptions=False)


@pytest.mark.parametrize("uri", [
    "https://rp.example/a/../callback",
    "https://rp.example/..",
    "https://rp.example/a/./callback",
    "https://rp.example/a/%2e%2e/callback",
    "https://rp.example/a/%2E./callback",
])
def test_cli_refuses_a_redirect_uri_with_dot_segments(app, uri):
    result = idp(app, "clients", "create", "--name", "Portail", "--redirect-uri", uri)
    assert result.exit_code == 1 and "dot segment" in result.output


def test_cli_pkce_opt_out_and_back(app):
    result = idp(app, "clients", "create", "--name", "Ancien portail", "--redirect-uri", "https://rp.example/cb",
                 "--no-pkce", "--json")
    assert result.exit_code == 0, result.output
    import json

    client_id = json.loads(result.stdout)["client_id"]
    shown = idp(app, "clients", "show", client_id, "--json")
    assert json.loads(shown.stdout)["require_pkce"] is False
    assert idp(app, "clients", "update", client_id, "--pkce").exit_code == 0
    assert json.loads(idp(app, "clients", "show", client_id, "--json").stdout)["require_pkce"] is True
    public = idp(app, "clients", "create", "--name", "Appli", "--redirect-uri", "https://rp.example/cb", "--public", "--no-pkce")
    assert public.exit_code == 1 and "PKCE" in public.output


# inviter_name ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["\u202eeriaganimI elocÉ", "École\u2066 Imaginaire\u2069", "Éco\u200ble", "Ecole\u00ad"])
def test_inviter_name_with_bidi_or_invisible_characters_is_a_400(app, client, name):
    rp = make_api_client(app)
    response = client.post("/api/invitations", headers=bearer(access_token(client, rp)),
                           json={"email": "zoe@example.ca", "kind": "link", "inviter_name": name})
    assert response.status_code == 400 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == "invalid_request" and "inviter_name" in body["error_description"]
