"""Both servers sign a client in (issue 10): granian, started by `idp serve` with
config/granian.env as production starts it, and gunicorn with config/gunicorn.conf.py, each a
real process on a loopback port. Through HTTP only: client_credentials, then a whole
authorization-code sign-in (authorize, password, emailed code, consent, code, token) and the
UserInfo and introspection answers for its access token."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

import pytest

from idp.cli.worker import granian_environment
from tests.conftest import TEST_CONFIG, build_app, smtp_server
from tests.integration.web.served import (
    ROOT,
    parse,
    raw_request,
    server_command,
    stop_server,
    wait_until_serving,
)
from tests.oidc_support import PASSWORD, make_client, make_user
from tests.signin_support import signin_codes_sent, wait_for_signin_code
from tests.support import FrozenClock, free_port

BIN = Path(sys.executable).parent
EMAIL = "zoe@example.ca"
REDIRECT_URI = "http://127.0.0.1:9/cb"


def _load_signin_flow():
    """bench/signin_flow.py, the same browser-free walk bench/run.py times."""
    spec = importlib.util.spec_from_file_location("bench_signin_flow", ROOT / "bench" / "signin_flow.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


signin_flow = _load_signin_flow()


@contextmanager
def started(kind: str, tmp_path: Path):
    """The IdP served by `kind` as docs/deployment.md starts it; yields (port, client)."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    database_uri = f"sqlite:///{tmp_path / 'passerelle.sqlite3'}"
    app = build_app(database_uri, FrozenClock(), issuer=issuer)
    make_user(app, EMAIL)
    client = make_client(app, redirect_uris=[REDIRECT_URI],
                         grant_types=["authorization_code", "refresh_token", "client_credentials"])
    with app.app_context():
        from idp.extensions import db

        db.engine.dispose()
    env = {
        **os.environ,
        "IDP_CONFIG": str(TEST_CONFIG),
        "IDP_SQLALCHEMY_DATABASE_URI": database_uri,
        "IDP_OIDC_ISSUER": issuer,
        "IDP_SMTP_HOST": "127.0.0.1",
        "IDP_SMTP_PORT": str(smtp_server().port),
        "PYTHONPATH": str(ROOT),
    }
    if kind == "granian":
        # `idp serve`: config/granian.env, with the port and the metrics folder given here.
        command = [str(BIN / "idp"), "serve", "--port", str(port), "--workers", "2"]
        env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "prometheus")
        env["GRANIAN_LOG_ACCESS_ENABLED"] = "false"
    else:
        command, server_env = server_command("gunicorn", port)
        env.update(server_env)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        wait_until_serving(port, process)
        yield port, client
    finally:
        stop_server(process)


def post_form(port: int, path: str, form: dict[str, str], authorization: str) -> tuple[int, dict]:
    body = urllib.parse.urlencode(form).encode()
    headers = (b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n" % len(body)
               + b"Authorization: " + authorization.encode() + b"\r\n")
    status, _, answer = parse(raw_request(port, b"POST " + path.encode() + b" HTTP/1.1", body, headers))
    return status, json.loads(answer)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["granian", "gunicorn"])
def test_each_server_signs_a_client_and_a_person_in(kind, tmp_path):
    with started(kind, tmp_path) as (port, client):
        basic = "Basic " + base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
        status, answer = post_form(port, "/token", {"grant_type": "client_credentials"}, basic)
        assert status == 200, answer
        assert answer["token_type"].lower() == "bearer" and answer["access_token"]

        before = signin_codes_sent(EMAIL)
        walk = signin_flow.SignInWalk(f"http://127.0.0.1:{port}", client.client_id, client.client_secret,
                                      REDIRECT_URI, scope="openid offline_access")
        tokens = walk.run(EMAIL, PASSWORD, read_code=lambda address: wait_for_signin_code(address, before))
        assert tokens["id_token"].count(".") == 2 and tokens["refresh_token"], tokens
        assert walk.requests >= 6  # authorize, sign-in page and POST, code page and POST, token

        status, _, userinfo = parse(raw_request(
            port, b"GET /userinfo HTTP/1.1", headers=b"Authorization: Bearer " + tokens["access_token"].encode() + b"\r\n"))
        assert status == 200 and json.loads(userinfo)["sub"]
        status, introspected = post_form(port, "/introspect", {"token": tokens["access_token"]}, basic)
        assert status == 200 and introspected["active"] is True

        status, refreshed = post_form(port, "/token", {"grant_type": "refresh_token",
                                                       "refresh_token": tokens["refresh_token"]}, basic)
        assert status == 200 and refreshed["refresh_token"] != tokens["refresh_token"]


def test_idp_serve_takes_granian_env_then_the_environment_then_its_options():
    text = "# a comment\nGRANIAN_WORKERS=2\nGRANIAN_PORT=5000\n\nGRANIAN_HOST=127.0.0.1\nQUOTED='a b'\n"
    env = granian_environment(text, {"GRANIAN_WORKERS": "4", "PATH": "/bin"}, host=None, port=8000, workers=None)
    assert env["GRANIAN_WORKERS"] == "4"  # the environment (systemd's own file) wins over the file
    assert env["GRANIAN_PORT"] == "8000"  # an option wins over both
    assert env["GRANIAN_HOST"] == "127.0.0.1"
    assert env["QUOTED"] == "a b"
    assert env["PATH"] == "/bin"


def test_idp_serve_refuses_a_settings_file_that_is_not_key_value_lines():
    with pytest.raises(ValueError, match="line 2"):
        granian_environment("GRANIAN_WORKERS=2\nexport GRANIAN_PORT\n", {}, host=None, port=None, workers=None)
