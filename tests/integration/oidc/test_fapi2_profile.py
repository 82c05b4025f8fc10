"""The fapi2 profile (issue 14): `idp clients create|update --profile fapi2` requires
private_key_jwt, PKCE, pushed and signed authorization requests, and keeps them from being
weakened one by one; the authorization response carries `iss` (RFC 9207)."""

from __future__ import annotations

import json
import secrets

import pytest
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import ECKey

from idp.cli import main
from tests.integration.oidc.test_code_flow import decode_id_token
from tests.integration.oidc.test_dpop import proof as dpop_proof
from tests.oidc_support import PKCE_VERIFIER, SignIn, authorization_params, basic_auth, make_client, make_user

ISSUER = "http://127.0.0.1:5000"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def key():
    return ECKey.generate_key("P-256", parameters={"kid": "fapi-1"})


@pytest.fixture
def jwks_file(tmp_path, key):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    return str(path)


def run(app, *args):
    return CliRunner().invoke(main, list(args), obj=app)


def create_fapi2(app, jwks_file, *extra):
    result = run(app, "clients", "create", "--name", "Banque", "--redirect-uri", "https://rp.example/callback",
                 "--jwks-file", jwks_file, "--profile", "fapi2", *extra, "--json")
    return result


def shown(app, client_id) -> dict:
    return json.loads(run(app, "clients", "show", client_id, "--json").output)


def test_the_profile_sets_every_requirement(app, jwks_file):
    created = create_fapi2(app, jwks_file)
    assert created.exit_code == 0, created.output
    client = shown(app, json.loads(created.output)["client_id"])
    assert client["profile"] == "fapi2"
    assert client["token_endpoint_auth_method"] == "private_key_jwt"
    assert client["require_pkce"] and client["require_pushed_authorization_requests"]
    assert client["require_signed_request_object"] and not client["allow_unsigned_request_objects"]
    assert client["dpop_bound_access_tokens"]


@pytest.mark.parametrize("extra", [
    ("--auth-method", "client_secret_basic"),
    ("--no-pkce",),
    ("--allow-unsigned-request-objects",),
])
def test_the_profile_refuses_what_it_forbids(app, jwks_file, extra):
    created = create_fapi2(app, jwks_file, *extra)
    assert created.exit_code != 0
    assert "fapi2" in created.output or "unsigned" in created.output


def test_the_profile_needs_keys(app):
    created = run(app, "clients", "create", "--name", "Banque", "--redirect-uri", "https://rp.example/cb",
                  "--profile", "fapi2")
    assert created.exit_code != 0 and "JWKS" in created.output


def test_a_profiled_client_cannot_be_weakened_until_the_profile_is_lifted(app, jwks_file):
    client_id = json.loads(create_fapi2(app, jwks_file).output)["client_id"]
    for option in ("--no-require-par", "--no-require-signed-request-object", "--no-pkce", "--allow-unsigned-request-objects"):
        weakened = run(app, "clients", "update", client_id, option)
        assert weakened.exit_code != 0, option
        assert "fapi2 profile needs" in weakened.output or "cannot be allowed unsigned" in weakened.output
    assert run(app, "clients", "update", client_id, "--profile", "none").exit_code == 0
    assert run(app, "clients", "update", client_id, "--no-require-par").exit_code == 0
    client = shown(app, client_id)
    assert client["profile"] is None and not client["require_pushed_authorization_requests"]


def test_the_profile_applies_to_an_existing_client_only_with_private_key_jwt(app, jwks_file):
    secret_client = make_client(app)
    refused = run(app, "clients", "update", secret_client.client_id, "--profile", "fapi2")
    assert refused.exit_code != 0 and "private_key_jwt" in refused.output
    created = run(app, "clients", "create", "--name", "B", "--redirect-uri", "https://rp.example/cb",
                  "--auth-method", "private_key_jwt", "--jwks-file", jwks_file, "--json")
    client_id = json.loads(created.output)["client_id"]
    assert run(app, "clients", "update", client_id, "--profile", "fapi2").exit_code == 0
    client = shown(app, client_id)
    assert client["require_pushed_authorization_requests"] and client["require_signed_request_object"]


def assertion(client_id, key, clock) -> dict:
    now = int(clock().timestamp())
    claims = {"iss": client_id, "sub": client_id, "aud": ISSUER, "iat": now, "exp": now + 60,
              "jti": secrets.token_urlsafe(16)}
    return {"client_assertion_type": ASSERTION_TYPE,
            "client_assertion": jwt.encode({"alg": "ES256", "kid": "fapi-1"}, claims, key)}


def test_a_fapi2_client_signs_in_through_signed_pushed_requests(app, client, clock, key, jwks_file):
    make_user(app)
    client_id = json.loads(create_fapi2(app, jwks_file).output)["client_id"]
    rp = type("RP", (), {"client_id": client_id, "redirect_uri": "https://rp.example/callback", "client_secret": None})()
    params = authorization_params(rp)

    plain = client.get("/authorize", query_string=params)
    assert plain.status_code == 303 and "error=invalid_request" in plain.headers["Location"]
    unsigned_push = client.post("/par", data={**params, **assertion(client_id, key, clock)})
    assert unsigned_push.status_code == 400 and unsigned_push.get_json()["error"] == "invalid_request"
    secret_push = client.post("/par", data=params, headers=basic_auth(rp))
    assert secret_push.status_code == 401

    now = int(clock().timestamp())
    request_object = jwt.encode({"alg": "ES256", "kid": "fapi-1"},
                                {**params, "iss": client_id, "aud": ISSUER, "nbf": now, "exp": now + 300}, key)
    pushed = client.post("/par", data={"client_id": client_id, "request": request_object, **assertion(client_id, key, clock)})
    assert pushed.status_code == 201, pushed.get_data(as_text=True)
    result = SignIn(client).code_for({"client_id": client_id, "request_uri": pushed.get_json()["request_uri"]})
    assert result["iss"] == ISSUER and result["state"] == params["state"]  # RFC 9207
    token_request = {"grant_type": "authorization_code", "code": result["code"], "redirect_uri": rp.redirect_uri,
                     "code_verifier": PKCE_VERIFIER}
    # DPoP (RFC 9449) is part of the profile: no proof, no token (and the code is not spent).
    without_proof = client.post("/token", data={**token_request, **assertion(client_id, key, clock)})
    assert without_proof.status_code == 400 and without_proof.get_json()["error"] == "invalid_dpop_proof"
    tokens = client.post("/token", data={**token_request, **assertion(client_id, key, clock)},
                         headers={"DPoP": dpop_proof(ECKey.generate_key("P-256"), clock)})
    assert tokens.status_code == 200, tokens.get_data(as_text=True)
    assert tokens.get_json()["token_type"] == "DPoP"
    assert decode_id_token(client, tokens.get_json()["id_token"])["nonce"] == params["nonce"]
