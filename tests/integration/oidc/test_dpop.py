"""DPoP (RFC 9449): proofs at the token endpoint and at UserInfo, tokens bound to the key.

Proofs are made here with joserfc as a client would: a JWT of type dpop+jwt signed with the
client's key, whose public half is in the header. Every bad proof is refused with the
standard error (invalid_dpop_proof, use_dpop_nonce), never a 500, and spends nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import warnings

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from idp import create_app
from idp.extensions import db
from idp.oidc.models import DPoPProofJti
from tests.oidc_support import PKCE_VERIFIER, SignIn, authorization_params, basic_auth, make_client, make_user

ISSUER = "http://127.0.0.1:5000"
TOKEN_URL = ISSUER + "/token"
USERINFO_URL = ISSUER + "/userinfo"


def proof(key, clock, *, htm="POST", htu=TOKEN_URL, alg="ES256", header=None, **claims) -> str:
    """A DPoP proof by `key` for htm/htu now; keywords override or (None) drop claims."""
    body = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu, "iat": int(clock().timestamp()), **claims}
    body = {name: value for name, value in body.items() if value is not None}
    protected = {"typ": "dpop+jwt", "alg": alg, "jwk": key.as_dict(private=False), **(header or {})}
    protected = {name: value for name, value in protected.items() if value is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # EdDSA: renamed Ed25519 by RFC 9864
        return jws.serialize_compact(protected, _json(body), key, algorithms=[alg])


def _json(value) -> bytes:
    return json.dumps(value).encode()


def ath(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture
def key():
    return ECKey.generate_key("P-256")


@pytest.fixture
def service(app):
    """A confidential client with client_credentials: the shortest way to the token endpoint."""
    return make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=())


def client_credentials(http, rp, dpop: str | None = None, **headers):
    if dpop is not None:
        headers["DPoP"] = dpop
    return http.post("/token", data={"grant_type": "client_credentials"}, headers={**basic_auth(rp), **headers})


def signed_in_tokens(http, rp, key, clock, scope="openid profile"):
    code = SignIn(http).code_for(authorization_params(rp, scope=scope))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
            "code_verifier": PKCE_VERIFIER}
    headers = {"DPoP": proof(key, clock)}
    if rp.client_secret:
        headers.update(basic_auth(rp))
    else:
        data["client_id"] = rp.client_id
    response = http.post("/token", data=data, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def userinfo(http, token: str, dpop: str | None = None, scheme: str = "DPoP"):
    headers = {"Authorization": f"{scheme} {token}"}
    if dpop is not None:
        headers["DPoP"] = dpop
    return http.get("/userinfo", headers=headers)


# Binding -----------------------------------------------------------------------------------------

def test_discovery_advertises_the_dpop_algorithms(client):
    algs = client.get("/.well-known/openid-configuration").get_json()["dpop_signing_alg_values_supported"]
    assert {"ES256", "PS256", "RS256", "EdDSA"} <= set(algs)
    assert not {"none", "HS256"} & set(algs)


@pytest.mark.parametrize("make_key,alg", [
    (lambda: ECKey.generate_key("P-256"), "ES256"),
    (lambda: RSAKey.generate_key(2048), "PS256"),
    (lambda: RSAKey.generate_key(2048), "RS256"),
    (lambda: OKPKey.generate_key("Ed25519"), "EdDSA"),
])
def test_a_proof_binds_the_access_token_to_the_key(app, client, clock, service, make_key, alg):
    key = make_key()
    response = client_credentials(client, service, proof(key, clock, alg=alg))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "DPoP"
    assert response.headers["DPoP-Nonce"]
    introspected = client.post("/introspect", data={"token": body["access_token"]}, headers=basic_auth(service)).get_json()
    assert introspected["active"] and introspected["token_type"] == "DPoP"
    assert introspected["cnf"] == {"jkt": key.thumbprint()}


def test_without_a_proof_the_token_stays_a_bearer_token(client, service):
    response = client_credentials(client, service)
    assert response.get_json()["token_type"] == "Bearer"
    introspected = client.post("/introspect", data={"token": response.get_json()["access_token"]},
                               headers=basic_auth(service)).get_json()
    assert "cnf" not in introspected and introspected["token_type"] == "Bearer"


def test_a_client_that_requires_dpop_gets_no_token_without_a_proof(app, client, clock, key):
    rp = make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=(),
                     dpop_bound_access_tokens=True)
    refused = client_credentials(client, rp)
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_dpop_proof"
    assert client_credentials(client, rp, proof(key, clock)).get_json()["token_type"] == "DPoP"


# Bad proofs at the token endpoint -----------------------------------------------------------------

def _hs256(key, clock):
    secret = OctKey.generate_key(256)
    body = {"jti": "x", "htm": "POST", "htu": TOKEN_URL, "iat": int(clock().timestamp())}
    return jws.serialize_compact({"typ": "dpop+jwt", "alg": "HS256", "jwk": secret.as_dict(private=False)},
                                 _json(body), secret, algorithms=["HS256"])


def _none(key, clock):
    header = base64.urlsafe_b64encode(_json({"typ": "dpop+jwt", "alg": "none", "jwk": key.as_dict(private=False)}))
    body = base64.urlsafe_b64encode(_json({"jti": "y", "htm": "POST", "htu": TOKEN_URL, "iat": int(clock().timestamp())}))
    return header.rstrip(b"=").decode() + "." + body.rstrip(b"=").decode() + "."


def _private_key_in_header(key, clock):
    return proof(key, clock, header={"jwk": key.as_dict(private=True)})


def _signed_by_another_key(key, clock):
    other = ECKey.generate_key("P-256")
    return proof(other, clock, header={"jwk": key.as_dict(private=False)})


def _small_rsa(key, clock):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # joserfc's own advice, tested here
        return proof(RSAKey.import_key(small), clock, alg="RS256")


BAD_PROOFS = {
    "malformed": lambda key, clock: "not.a-jwt",
    "garbage": lambda key, clock: "%%%",
    "typ JWT": lambda key, clock: proof(key, clock, header={"typ": "JWT"}),
    "alg HS256": _hs256,
    "alg none": _none,
    "alg ES384 not allowed": lambda key, clock: proof(ECKey.generate_key("P-384"), clock, alg="ES384"),
    "no jwk": lambda key, clock: proof(key, clock, header={"jwk": None}),
    "private key in the header": _private_key_in_header,
    "signed by another key": _signed_by_another_key,
    "RSA key of 1024 bits": _small_rsa,
    "another method": lambda key, clock: proof(key, clock, htm="GET"),
    "another URL": lambda key, clock: proof(key, clock, htu=ISSUER + "/userinfo"),
    "another host": lambda key, clock: proof(key, clock, htu="http://evil.example/token"),
    "htu not a URL": lambda key, clock: proof(key, clock, htu=12),
    "too old": lambda key, clock: proof(key, clock, iat=int(clock().timestamp()) - 61),
    "in the future": lambda key, clock: proof(key, clock, iat=int(clock().timestamp()) + 11),
    "iat a string": lambda key, clock: proof(key, clock, iat="now"),
    "iat NaN": lambda key, clock: proof(key, clock, iat=float("nan")),
    "iat infinite": lambda key, clock: proof(key, clock, iat=float("-inf")),
    "no jti": lambda key, clock: proof(key, clock, jti=None),
    "huge jti": lambda key, clock: proof(key, clock, jti="j" * 300),
}


@pytest.mark.parametrize("name", list(BAD_PROOFS))
def test_a_bad_proof_is_invalid_dpop_proof(client, clock, service, key, name):
    response = client_credentials(client, service, BAD_PROOFS[name](key, clock))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == "invalid_dpop_proof"


def test_a_proof_is_good_once_on_any_host(app, client, clock, service, key, database_uri):
    used = proof(key, clock)
    assert client_credentials(client, service, used).status_code == 200
    replayed = client_credentials(client, service, used)
    assert replayed.status_code == 400 and replayed.get_json()["error"] == "invalid_dpop_proof"
    # Another worker or host, sharing only the database, refuses it too.
    other = create_app({"SQLALCHEMY_DATABASE_URI": database_uri, "OIDC_ISSUER": ISSUER,
                        "SMTP_HOST": app.config["SMTP_HOST"], "SMTP_PORT": app.config["SMTP_PORT"]}, clock=clock)
    other_response = client_credentials(other.test_client(), service, used)
    assert other_response.status_code == 400 and other_response.get_json()["error"] == "invalid_dpop_proof"
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_two_dpop_headers_are_refused(client, clock, service, key):
    response = client.post("/token", data={"grant_type": "client_credentials"},
                           headers=[*basic_auth(service).items(), ("DPoP", proof(key, clock)), ("DPoP", proof(key, clock))])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_dpop_proof"


def test_the_query_and_a_default_port_of_htu_are_ignored(client, clock, service, key):
    assert client_credentials(client, service, proof(key, clock, htu=TOKEN_URL + "?a=1#f")).status_code == 200
    assert client_credentials(client, service, proof(key, clock, htu="HTTP://127.0.0.1:5000/token")).status_code == 200


def test_seen_proofs_are_kept_until_they_are_too_old_then_pruned(app, client, clock, service, key):
    from idp.context import app_context
    from idp.ops.services import PruneService

    assert client_credentials(client, service, proof(key, clock)).status_code == 200
    with app.app_context():
        assert db.session.query(DPoPProofJti).count() == 1
        clock.advance(days=30)
        context = app_context()
        service = PruneService(db.session, context.settings, context.clock)
        rule = next(rule for rule in service.rules() if rule.name == "dpop_proof_jtis")
        assert service.prune_batch(rule, 100) == 1
        db.session.commit()
        assert db.session.query(DPoPProofJti).count() == 0


# Nonces ------------------------------------------------------------------------------------------

@pytest.mark.settings(OIDC_DPOP_REQUIRE_NONCE=True)
def test_a_nonce_is_asked_for_then_accepted(client, clock, service, key):
    first = client_credentials(client, service, proof(key, clock))
    assert first.status_code == 400 and first.get_json()["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    response = client_credentials(client, service, proof(key, clock, nonce=nonce))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["token_type"] == "DPoP"
    # Good for one to two periods, then asked for again.
    clock.advance(seconds=601)
    stale = client_credentials(client, service, proof(key, clock, nonce=nonce))
    assert stale.get_json()["error"] == "use_dpop_nonce" and stale.headers["DPoP-Nonce"] != nonce
    fresh = stale.headers["DPoP-Nonce"]
    # Changing the last character: to "0" unless it already is one (1 run in 64 failed so).
    forged_nonce = fresh[:-1] + ("1" if fresh.endswith("0") else "0")
    forged = client_credentials(client, service, proof(key, clock, nonce=forged_nonce))
    assert forged.get_json()["error"] == "use_dpop_nonce"


def test_a_client_registered_with_dpop_require_nonce_must_send_one(app, client, clock, key):
    rp = make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=(),
                     dpop_require_nonce=True)
    first = client_credentials(client, rp, proof(key, clock))
    assert first.get_json()["error"] == "use_dpop_nonce"
    assert client_credentials(client, rp, proof(key, clock, nonce=first.headers["DPoP-Nonce"])).status_code == 200


# Refresh tokens of public clients ----------------------------------------------------------------

def test_a_public_clients_refresh_token_is_bound_to_the_key(app, client, clock, key):
    make_user(app)
    rp = make_client(app, is_public=True, auth_method="none")
    tokens = signed_in_tokens(client, rp, key, clock)
    assert tokens["token_type"] == "DPoP"

    def refresh(dpop):
        headers = {"DPoP": dpop} if dpop else {}
        return client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                           "client_id": rp.client_id}, headers=headers)

    other = refresh(proof(ECKey.generate_key("P-256"), clock))
    assert other.status_code == 400 and other.get_json()["error"] == "invalid_dpop_proof"
    none = refresh(None)
    assert none.status_code == 400 and none.get_json()["error"] == "invalid_dpop_proof"
    # Those attempts spent nothing: the key's holder refreshes, and stays bound.
    good = refresh(proof(key, clock))
    assert good.status_code == 200, good.get_json()
    assert good.get_json()["token_type"] == "DPoP"


def test_a_confidential_clients_refresh_token_is_not_bound(app, client, clock, key):
    make_user(app)
    rp = make_client(app)
    tokens = signed_in_tokens(client, rp, key, clock)
    refreshed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            headers={**basic_auth(rp), "DPoP": proof(ECKey.generate_key("P-256"), clock)})
    assert refreshed.status_code == 200 and refreshed.get_json()["token_type"] == "DPoP"


# UserInfo ----------------------------------------------------------------------------------------

@pytest.fixture
def bound(app, client, clock, key):
    make_user(app)
    rp = make_client(app)
    return signed_in_tokens(client, rp, key, clock)["access_token"]


def test_userinfo_accepts_a_bound_token_with_a_proof(client, clock, key, bound):
    response = userinfo(client, bound, proof(key, clock, htm="GET", htu=USERINFO_URL, ath=ath(bound)))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["sub"]


def test_userinfo_refuses_a_bound_token_sent_as_bearer(client, clock, key, bound):
    response = userinfo(client, bound, scheme="Bearer")
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("DPoP ")


@pytest.mark.parametrize("name,make", [
    ("no proof", lambda key, clock, token: None),
    ("missing ath", lambda key, clock, token: proof(key, clock, htm="GET", htu=USERINFO_URL)),
    ("ath of another token", lambda key, clock, token: proof(key, clock, htm="GET", htu=USERINFO_URL, ath=ath("x"))),
    ("for the token endpoint", lambda key, clock, token: proof(key, clock, ath=ath(token))),
    ("another key", lambda key, clock, token: proof(ECKey.generate_key("P-256"), clock, htm="GET", htu=USERINFO_URL,
                                                    ath=ath(token))),
    ("malformed", lambda key, clock, token: "a.b.c"),
])
def test_userinfo_refuses_a_bad_proof(client, clock, key, bound, name, make):
    response = userinfo(client, bound, make(key, clock, bound))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_dpop_proof"
    assert 'error="invalid_dpop_proof"' in response.headers["WWW-Authenticate"]


def test_userinfo_refuses_a_replayed_proof(client, clock, key, bound):
    used = proof(key, clock, htm="GET", htu=USERINFO_URL, ath=ath(bound))
    assert userinfo(client, bound, used).status_code == 200
    assert userinfo(client, bound, used).get_json()["error"] == "invalid_dpop_proof"


def test_userinfo_refuses_a_bearer_token_sent_with_the_dpop_scheme(client, clock, key, service):
    token = client_credentials(client, service).get_json()["access_token"]
    response = userinfo(client, token, proof(key, clock, htm="GET", htu=USERINFO_URL, ath=ath(token)))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"


@pytest.mark.settings(OIDC_DPOP_REQUIRE_NONCE=True)
def test_userinfo_asks_for_a_nonce_when_nonces_are_required(app, client, clock, key):
    make_user(app)
    rp = make_client(app)
    code = SignIn(client).code_for(authorization_params(rp, scope="openid"))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri, "code_verifier": PKCE_VERIFIER}
    first = client.post("/token", data=data, headers={**basic_auth(rp), "DPoP": proof(key, clock)})
    assert first.get_json()["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    token = client.post("/token", data=data, headers={**basic_auth(rp), "DPoP": proof(key, clock, nonce=nonce)}).get_json()
    assert token["token_type"] == "DPoP", token
    asked = userinfo(client, token["access_token"], proof(key, clock, htm="GET", htu=USERINFO_URL,
                                                           ath=ath(token["access_token"])))
    assert asked.status_code == 401 and asked.get_json()["error"] == "use_dpop_nonce"
    assert 'error="use_dpop_nonce"' in asked.headers["WWW-Authenticate"]
    answered = userinfo(client, token["access_token"], proof(key, clock, htm="GET", htu=USERINFO_URL,
                                                              ath=ath(token["access_token"]),
                                                              nonce=asked.headers["DPoP-Nonce"]))
    assert answered.status_code == 200, answered.get_json()


# Operators ---------------------------------------------------------------------------------------

def test_operators_require_dpop_and_nonces_per_client(app, client, clock, key, service):
    from click.testing import CliRunner

    from idp.cli import main

    def run(*args):
        result = CliRunner().invoke(main, list(args), obj=app, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    shown = run("clients", "update", service.client_id, "--require-dpop", "--require-dpop-nonce", "--json")
    assert shown["dpop_bound_access_tokens"] and shown["dpop_require_nonce"]
    with app.app_context():
        app.extensions["oidc_server"].clients._entries.clear()  # as after OIDC_CLIENT_CACHE_TTL
    assert client_credentials(client, service).get_json()["error"] == "invalid_dpop_proof"
    assert client_credentials(client, service, proof(key, clock)).get_json()["error"] == "use_dpop_nonce"
    shown = run("clients", "update", service.client_id, "--no-require-dpop", "--no-require-dpop-nonce", "--json")
    assert not shown["dpop_bound_access_tokens"] and not shown["dpop_require_nonce"]


@pytest.mark.settings(OIDC_DYNAMIC_REGISTRATION=True)
def test_a_dynamically_registered_client_may_ask_for_dpop_bound_tokens(app, client, clock, key):
    """RFC 9449 §5.2: dpop_bound_access_tokens is client metadata, kept and shown, a boolean."""
    from tests.integration.oidc.test_dynamic_registration import initial_token, refused, register

    not_boolean = register(client, initial_token(app), dpop_bound_access_tokens="yes")
    refused(not_boolean, 400, "invalid_client_metadata")
    created = register(client, initial_token(app), dpop_bound_access_tokens=True)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["dpop_bound_access_tokens"] is True
    with app.app_context():
        from idp.oidc.models import Client
        assert db.session.query(Client).filter_by(client_id=body["client_id"]).one().dpop_bound_access_tokens
    shown = client.get(f"/register/{body['client_id']}",
                       headers={"Authorization": f"Bearer {body['registration_access_token']}"}).get_json()
    assert shown["dpop_bound_access_tokens"] is True


# Passerelle's own APIs (idp/web/bearer.py) honour the binding like UserInfo --------------------

def test_the_apis_take_a_bound_token_only_with_a_proof(app, client, clock, key):
    from tests.invitations_support import make_api_client

    rp = make_api_client(app)
    token = client.post("/token", data={"grant_type": "client_credentials", "scope": "invitations"},
                        headers={**basic_auth(rp), "DPoP": proof(key, clock)}).get_json()["access_token"]
    url = ISSUER + "/api/invitations"
    as_bearer = client.get("/api/invitations", headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401 and as_bearer.get_json()["error"] == "invalid_token"
    no_ath = client.get("/api/invitations", headers={"Authorization": f"DPoP {token}",
                                                      "DPoP": proof(key, clock, htm="GET", htu=url)})
    assert no_ath.status_code == 401 and no_ath.get_json()["error"] == "invalid_dpop_proof"
    used = proof(key, clock, htm="GET", htu=url, ath=ath(token))
    listed = client.get("/api/invitations", headers={"Authorization": f"DPoP {token}", "DPoP": used})
    assert listed.status_code == 200, listed.get_json()
    replayed = client.get("/api/invitations", headers={"Authorization": f"DPoP {token}", "DPoP": used})
    assert replayed.status_code == 401 and replayed.get_json()["error"] == "invalid_dpop_proof"
    # A token without a binding is still a Bearer token there.
    plain = client.post("/token", data={"grant_type": "client_credentials", "scope": "invitations"},
                        headers=basic_auth(rp)).get_json()["access_token"]
    assert client.get("/api/invitations", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
