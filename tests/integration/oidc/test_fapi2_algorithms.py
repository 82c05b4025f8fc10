"""The fapi2 profile's algorithms (FAPI 2.0 Security Profile §5.4.1): a fapi2 client signs
its request objects, client assertions and DPoP proofs with PS256 or ES256 only, and its
ID tokens are ES256; RS256 or HS256 gets the standard error of each (invalid_request_object,
invalid_client, invalid_dpop_proof). Other clients keep every algorithm Passerelle supports."""

from __future__ import annotations

import json
import secrets

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from tests.integration.oidc.test_dpop import USERINFO_URL, ath, userinfo
from tests.integration.oidc.test_dpop import proof as dpop_proof
from tests.integration.oidc.test_fapi2_profile import ASSERTION_TYPE, ISSUER, run, shown
from tests.oidc_support import PKCE_VERIFIER, SignIn, authorization_params, make_user

EC_KEY = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
RSA_KEY = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
HMAC_KEY = OctKey.generate_key(256, parameters={"kid": "rsa-1"})
SIGNING_KEYS = {"ES256": EC_KEY, "PS256": RSA_KEY, "RS256": RSA_KEY, "HS256": HMAC_KEY}
REDIRECT_URI = "https://rp.example/callback"


@pytest.fixture
def jwks_file(tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [EC_KEY.as_dict(private=False), RSA_KEY.as_dict(private=False)]}))
    return str(path)


def create(app, jwks_file, *extra) -> str:
    created = run(app, "clients", "create", "--name", "Banque", "--redirect-uri", REDIRECT_URI,
                  "--jwks-file", jwks_file, *extra, "--json")
    assert created.exit_code == 0, created.output
    return json.loads(created.output)["client_id"]


def signed(claims: dict, alg: str) -> str:
    key = SIGNING_KEYS[alg]
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def assertion(client_id: str, clock, alg: str = "ES256") -> dict:
    now = int(clock().timestamp())
    claims = {"iss": client_id, "sub": client_id, "aud": ISSUER, "iat": now, "exp": now + 60,
              "jti": secrets.token_urlsafe(16)}
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed(claims, alg)}


def request_object(client_id: str, clock, alg: str = "ES256") -> tuple[dict, str]:
    rp = type("RP", (), {"client_id": client_id, "redirect_uri": REDIRECT_URI, "client_secret": None})()
    params = authorization_params(rp)
    now = int(clock().timestamp())
    return params, signed({**params, "iss": client_id, "aud": ISSUER, "nbf": now, "exp": now + 300}, alg)


def push(client, client_id, clock, *, object_alg="ES256", assertion_alg="ES256"):
    _, request = request_object(client_id, clock, object_alg)
    return client.post("/par", data={"client_id": client_id, "request": request,
                                     **assertion(client_id, clock, assertion_alg)})


@pytest.mark.parametrize("alg", ["PS256", "ES256"])
def test_a_fapi2_client_signs_with_ps256_or_es256(app, client, clock, jwks_file, alg):
    client_id = create(app, jwks_file, "--profile", "fapi2")
    pushed = push(client, client_id, clock, object_alg=alg, assertion_alg=alg)
    assert pushed.status_code == 201, pushed.get_data(as_text=True)


@pytest.mark.parametrize("alg", ["RS256", "HS256"])
def test_a_fapi2_clients_request_object_in_another_algorithm_is_refused(app, client, clock, jwks_file, alg):
    client_id = create(app, jwks_file, "--profile", "fapi2")
    pushed = push(client, client_id, clock, object_alg=alg)
    assert pushed.status_code == 400 and pushed.get_json()["error"] == "invalid_request_object"


@pytest.mark.parametrize("alg", ["RS256", "HS256"])
def test_a_fapi2_clients_assertion_in_another_algorithm_is_refused(app, client, clock, jwks_file, alg):
    client_id = create(app, jwks_file, "--profile", "fapi2")
    pushed = push(client, client_id, clock, assertion_alg=alg)
    assert pushed.status_code == 400 and pushed.get_json()["error"] == "invalid_client", pushed.get_data(as_text=True)
    assert "PS256" in pushed.get_json()["error_description"]


def test_a_client_without_the_profile_may_still_sign_with_rs256(app, client, clock, jwks_file):
    client_id = create(app, jwks_file, "--auth-method", "private_key_jwt", "--require-par",
                       "--require-signed-request-object")
    pushed = push(client, client_id, clock, object_alg="RS256", assertion_alg="RS256")
    assert pushed.status_code == 201, pushed.get_data(as_text=True)


def signed_in_code(client, client_id, clock) -> str:
    make_user(client.application)
    pushed = push(client, client_id, clock)
    assert pushed.status_code == 201, pushed.get_data(as_text=True)
    return SignIn(client).code_for({"client_id": client_id, "request_uri": pushed.get_json()["request_uri"]})["code"]


def token_request(client_id, code, clock) -> dict:
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": PKCE_VERIFIER, **assertion(client_id, clock)}


def test_a_fapi2_clients_dpop_proof_in_rs256_is_refused(app, client, clock, jwks_file):
    client_id = create(app, jwks_file, "--profile", "fapi2")
    code = signed_in_code(client, client_id, clock)
    rsa_proof = dpop_proof(RSAKey.generate_key(2048), clock, alg="RS256")
    refused = client.post("/token", data=token_request(client_id, code, clock), headers={"DPoP": rsa_proof})
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_dpop_proof"
    assert "PS256" in refused.get_json()["error_description"]
    key = RSAKey.generate_key(2048)
    tokens = client.post("/token", data=token_request(client_id, code, clock),
                         headers={"DPoP": dpop_proof(key, clock, alg="PS256")})
    assert tokens.status_code == 200, tokens.get_data(as_text=True)
    access_token = tokens.get_json()["access_token"]
    at_userinfo = userinfo(client, access_token, dpop_proof(key, clock, htm="GET", htu=USERINFO_URL, alg="RS256",
                                                             ath=ath(access_token)))
    assert at_userinfo.status_code == 401 and 'error="invalid_dpop_proof"' in at_userinfo.headers["WWW-Authenticate"]
    assert userinfo(client, access_token, dpop_proof(key, clock, htm="GET", htu=USERINFO_URL, alg="PS256",
                                                     ath=ath(access_token))).status_code == 200


def test_a_fapi2_client_cannot_have_rs256_id_tokens(app, jwks_file):
    refused = run(app, "clients", "create", "--name", "Banque", "--redirect-uri", REDIRECT_URI,
                  "--jwks-file", jwks_file, "--profile", "fapi2", "--id-token-alg", "RS256")
    assert refused.exit_code != 0 and "ES256" in refused.output


@pytest.mark.settings(OIDC_DEFAULT_ID_TOKEN_ALG="RS256")
def test_the_fapi2_profile_makes_the_id_tokens_es256(app, jwks_file):
    profiled = create(app, jwks_file, "--profile", "fapi2")
    assert shown(app, profiled)["id_token_signed_response_alg"] == "ES256"
    existing = create(app, jwks_file, "--auth-method", "private_key_jwt")
    assert shown(app, existing)["id_token_signed_response_alg"] == "RS256"
    assert run(app, "clients", "update", existing, "--profile", "fapi2").exit_code == 0
    assert shown(app, existing)["id_token_signed_response_alg"] == "ES256"
