"""Signed request objects (JAR, RFC 9101, issue 14): by value and through PAR, verified with
the client's registered keys (jwks or jwks_uri); alg none refused unless an operator allowed
it; another key, another client_id, an expired object, a wrong iss or aud refused."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import ECKey

from idp.cli import main
from idp.oidc.client_keys import fetch_jwks
from tests.integration.oidc.test_code_flow import decode_id_token, exchange
from tests.oidc_support import SignIn, authorization_params, basic_auth, make_client, make_user, query_of

ISSUER = "http://127.0.0.1:5000"


@pytest.fixture
def key():
    return ECKey.generate_key("P-256", parameters={"kid": "rp-1"})


def public(key) -> dict:
    return {"keys": [key.as_dict(private=False)]}


def request_object(rp, key, clock, alg="ES256", **changes) -> str:
    now = int(clock().timestamp())
    claims = {**authorization_params(rp), "iss": rp.client_id, "aud": ISSUER, "iat": now, "nbf": now, "exp": now + 300}
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    if alg == "none":
        return f"{_b64(json.dumps({'alg': 'none'}))}.{_b64(json.dumps(claims))}."
    return jwt.encode({"alg": alg, "kid": "rp-1"}, claims, key, algorithms=[alg])


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def by_value(http, rp, token, **outer):
    return http.get("/authorize", query_string={"client_id": rp.client_id, "request": token, **outer})


def redirected_error(response) -> dict:
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return query_of(response.headers["Location"])


def test_discovery_advertises_request_objects(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert metadata["request_parameter_supported"] is True
    assert metadata["request_object_signing_alg_values_supported"] == ["RS256", "PS256", "ES256"]


def test_a_signed_request_object_by_value_carries_the_request(app, client, clock, key):
    make_user(app)
    rp = make_client(app, jwks=public(key))
    token = request_object(rp, key, clock, state="from-the-object", nonce="nonce-in-object", scope="openid email")
    # Parameters beside it are ignored (RFC 9101 §5): the object's win.
    response = SignIn(client).authorize({"client_id": rp.client_id, "request": token, "state": "outside",
                                         "scope": "openid"})
    result = query_of(response.headers["Location"])
    assert result["state"] == "from-the-object"
    tokens = exchange(client, rp, result["code"]).get_json()
    assert tokens["scope"] == "openid email"
    assert decode_id_token(client, tokens["id_token"])["nonce"] == "nonce-in-object"


def test_a_signed_request_object_can_be_pushed(app, client, clock, key):
    make_user(app)
    rp = make_client(app, jwks=public(key), require_signed_request_object=True,
                     require_pushed_authorization_requests=True)
    pushed = client.post("/par", data={"request": request_object(rp, key, clock, state="pushed")}, headers=basic_auth(rp))
    assert pushed.status_code == 201, pushed.get_data(as_text=True)
    result = SignIn(client).code_for({"client_id": rp.client_id, "request_uri": pushed.get_json()["request_uri"]})
    assert result["state"] == "pushed" and "code" in result


@pytest.mark.parametrize("changes", [
    {"client_id": "someone-else"},
    {"iss": "someone-else"},
    {"iss": None},
    {"aud": "https://other-op.example"},
    {"aud": None},
    {"exp": -60},  # relative to now, see below
    {"nbf": 3600},
    {"request_uri": "urn:ietf:params:oauth:request_uri:nested"},
])
def test_a_request_object_with_wrong_claims_is_refused(app, client, clock, key, changes):
    rp = make_client(app, jwks=public(key))
    now = int(clock().timestamp())
    changes = {name: now + value if name in ("exp", "nbf") else value for name, value in changes.items()}
    response = by_value(client, rp, request_object(rp, key, clock, **changes), redirect_uri=rp.redirect_uri, state="s")
    error = redirected_error(response)
    assert error["error"] in ("invalid_request_object", "invalid_request")
    if "request_uri" not in changes:
        assert error["error"] == "invalid_request_object"


def test_an_expired_request_object_is_refused_on_the_injected_clock(app, client, clock, key):
    rp = make_client(app, jwks=public(key))
    token = request_object(rp, key, clock)
    clock.advance(301 + 30)
    assert redirected_error(by_value(client, rp, token, redirect_uri=rp.redirect_uri))["error"] == "invalid_request_object"


def test_a_request_object_signed_by_another_key_is_refused(app, client, clock, key):
    rp = make_client(app, jwks=public(key))
    intruder = ECKey.generate_key("P-256", parameters={"kid": "rp-1"})
    response = by_value(client, rp, request_object(rp, intruder, clock), redirect_uri=rp.redirect_uri)
    assert redirected_error(response)["error"] == "invalid_request_object"
    # Without a registered redirect URI beside it, the person sees a page.
    response = by_value(client, rp, request_object(rp, intruder, clock))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "invalid_request_object" in response.get_data(as_text=True)


def test_a_client_without_keys_cannot_sign(app, client, clock, key):
    rp = make_client(app)
    response = by_value(client, rp, request_object(rp, key, clock), redirect_uri=rp.redirect_uri)
    assert redirected_error(response)["error"] == "invalid_request_object"


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "x" * 20000, "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"])
def test_garbage_is_refused_never_a_500(app, client, key, token):
    rp = make_client(app, jwks=public(key))
    response = by_value(client, rp, token, redirect_uri=rp.redirect_uri)
    assert response.status_code in (303, 400)
    if response.status_code == 303:
        assert redirected_error(response)["error"] in ("invalid_request_object", "invalid_request")


def test_an_unsigned_request_object_is_refused_unless_allowed(app, client, clock, key):
    make_user(app)
    rp = make_client(app, jwks=public(key))
    token = request_object(rp, key, clock, alg="none", iss=None, aud=None)
    response = by_value(client, rp, token, redirect_uri=rp.redirect_uri, state="outer")
    error = redirected_error(response)
    assert error["error"] == "request_not_supported" and error["state"] == "outer"

    allowed = make_client(app, name="Ancien portail", allow_unsigned_request_objects=True)
    token = request_object(allowed, key, clock, alg="none", iss=None, aud=None, state="unsigned")
    result = SignIn(client).code_for({"client_id": allowed.client_id, "request": token})
    assert result["state"] == "unsigned" and "code" in result


def test_a_client_that_must_sign_is_refused_plain_and_unsigned_requests(app, client, clock, key):
    rp = make_client(app, jwks=public(key), require_signed_request_object=True)
    plain = client.get("/authorize", query_string=authorization_params(rp))
    assert redirected_error(plain)["error"] == "invalid_request"
    pushed_plain = client.post("/par", data={k: v for k, v in authorization_params(rp).items() if k != "client_id"},
                               headers=basic_auth(rp))
    assert pushed_plain.status_code == 400 and pushed_plain.get_json()["error"] == "invalid_request"
    # A strict client's object must say when it expires and when it starts.
    no_exp = by_value(client, rp, request_object(rp, key, clock, exp=None), redirect_uri=rp.redirect_uri)
    assert redirected_error(no_exp)["error"] == "invalid_request_object"
    now = int(clock().timestamp())
    too_long = by_value(client, rp, request_object(rp, key, clock, exp=now + 7200), redirect_uri=rp.redirect_uri)
    assert redirected_error(too_long)["error"] == "invalid_request_object"


def test_pushed_request_objects_are_checked_at_the_endpoint(app, client, clock, key):
    rp = make_client(app, jwks=public(key))
    intruder = ECKey.generate_key("P-256")
    for token, error in ((request_object(rp, intruder, clock), "invalid_request_object"),
                         (request_object(rp, key, clock, alg="none", iss=None, aud=None), "request_not_supported"),
                         (request_object(rp, key, clock, client_id="x"), "invalid_request_object")):
        response = client.post("/par", data={"request": token}, headers=basic_auth(rp))
        assert response.status_code == 400 and response.get_json()["error"] == error
        assert "Location" not in response.headers


def test_keys_from_a_jwks_uri_verify_request_objects(app, client, clock, key):
    make_user(app)
    fetched = []
    server = app.extensions["oidc_server"]
    server.client_keys.fetch = lambda uri: fetched.append(uri) or public(key)
    rp = make_client(app, jwks_uri="https://rp.example/jwks.json")
    for state in ("one", "two"):
        result = SignIn(client).code_for({"client_id": rp.client_id, "request": request_object(rp, key, clock, state=state)})
        assert result["state"] == state
    assert fetched == ["https://rp.example/jwks.json"]  # kept for a while, not fetched each time


class _Handler(BaseHTTPRequestHandler):
    routes: dict = {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        status, headers, body = self.routes[self.path]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_fetching_a_jwks_follows_no_redirect_and_reads_little(key):
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    _Handler.routes = {
        "/jwks": (200, {"Content-Type": "application/json"}, json.dumps(public(key)).encode()),
        "/moved": (302, {"Location": base + "/jwks"}, b""),
        "/huge": (200, {}, b'{"keys": [' + b" " * 100_000 + b"]}"),
        "/private": (200, {}, json.dumps({"keys": [key.as_dict(private=True)]}).encode()),
        "/broken": (500, {}, b""),
    }
    try:
        assert fetch_jwks(base + "/jwks") == public(key)
        for path in ("/moved", "/huge", "/private", "/broken"):
            assert fetch_jwks(base + path) is None, path
        assert fetch_jwks("http://127.0.0.1:9/nothing") is None
    finally:
        server.shutdown()
        server.server_close()


def run(app, *args):
    return CliRunner().invoke(main, list(args), obj=app)


def test_operators_register_keys_and_the_request_object_policy(app, tmp_path, key):
    created = run(app, "clients", "create", "--name", "JAR", "--redirect-uri", "https://rp.example/cb",
                  "--jwks-uri", "https://rp.example/jwks.json", "--require-signed-request-object", "--json")
    assert created.exit_code == 0, created.output
    client_id = json.loads(created.output)["client_id"]
    shown = json.loads(run(app, "clients", "show", client_id, "--json").output)
    assert shown["jwks_uri"] == "https://rp.example/jwks.json" and shown["require_signed_request_object"] is True

    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(public(key)))
    updated = run(app, "clients", "update", client_id, "--jwks-file", str(jwks_file), "--json")
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.output)["jwks_uri"] is None and json.loads(updated.output)["jwks"] == public(key)

    both = run(app, "clients", "update", client_id, "--allow-unsigned-request-objects")
    assert both.exit_code != 0 and "cannot be allowed unsigned" in both.output
    plain = run(app, "clients", "create", "--name", "No keys", "--redirect-uri", "https://rp.example/cb",
                "--require-signed-request-object")
    assert plain.exit_code != 0 and "public keys" in plain.output
    insecure = run(app, "clients", "create", "--name", "Bad", "--redirect-uri", "https://rp.example/cb",
                   "--jwks-uri", "http://rp.example/jwks.json")
    assert insecure.exit_code != 0 and "https" in insecure.output
