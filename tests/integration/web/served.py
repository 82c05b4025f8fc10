"""The IdP served by a real server (granian or gunicorn) in a subprocess on loopback, as
`make run` and production serve it, and raw HTTP/1.1 over a socket to talk to it."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import TEST_CONFIG, build_app
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines, as systemd's EnvironmentFile= and the shell read config/granian.env."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = " ".join(shlex.split(value))
    return values


def server_command(kind: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that docs/deployment.md gives for each server."""
    if kind == "granian":
        env = {**read_env_file(ROOT / "config" / "granian.env"), "GRANIAN_PORT": str(port)}
        return [str(BIN / "granian"), "idp:create_app"], env
    env = {"GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_ACCESSLOG": "/dev/null"}
    return [str(BIN / "gunicorn"), "idp:create_app()", "-c", str(ROOT / "config" / "gunicorn.conf.py")], env


@contextmanager
def served_idp(kind: str, database_uri: str, clock, **overrides):
    """Yield the port of the IdP served by `kind` on a database made ready here."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    app = build_app(database_uri, clock, issuer=issuer, **overrides)  # creates the tables
    with app.app_context():
        from idp.extensions import db

        db.engine.dispose()
    command, server_env = server_command(kind, port)
    env = {
        **os.environ,
        **server_env,
        "IDP_CONFIG": str(TEST_CONFIG),
        "IDP_SQLALCHEMY_DATABASE_URI": database_uri,
        "IDP_OIDC_ISSUER": issuer,
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        wait_until_serving(port, process)
        yield port
    finally:
        stop_server(process)


def stop_server(process: subprocess.Popen) -> None:
    """Stop a server started in a session of its own, and whatever it started: a worker left
    behind (its parent killed after the 20 s grace, or exiting before it) would outlive the
    test run."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # the whole group is gone
    process.wait()
    process.stderr.close()


def wait_until_serving(port: int, process: subprocess.Popen, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {process.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            if raw_request(port, b"GET /help HTTP/1.1", timeout=2).startswith(b"HTTP/1.1 200"):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not answer within 30 s")


def raw_request(port: int, request_line: bytes, body: bytes = b"", headers: bytes = b"", timeout: float = 10) -> bytes:
    """Send one request exactly as given (no encoding by a client library); the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n" + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body
