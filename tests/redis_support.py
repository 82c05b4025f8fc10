"""A real Redis for the tests that prove rate limits are shared across hosts (issue 9).

`redis_url` starts `redis-server` on a free loopback port in a temporary folder, with no
persistence, once per test session, and stops it at the end. Without the binary (or the
`redis` Python client) the tests that use it are skipped on a developer's machine, but in CI
(CI=true) they fail: CI must run them. `make system-deps` installs redis-server and
`make test` installs the `redis` extra.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.support import free_port

START_TIMEOUT = 10.0


def _missing(what: str) -> None:
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{what} is missing, and CI must run the Redis tests (make system-deps; make test)")
    pytest.skip(f"{what} is not installed (make system-deps installs redis-server, make test the redis extra)")


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """redis://127.0.0.1:<port>/0 of a redis-server this fixture started and will stop."""
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server")
    if importlib.util.find_spec("redis") is None:
        _missing("the redis Python client (the `redis` extra)")
    directory = tmp_path_factory.mktemp("redis")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory), "--logfile", str(directory / "redis.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = directory / "redis.log"
                raise RuntimeError(f"redis-server did not start: {log.read_text() if log.exists() else 'no log'}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
