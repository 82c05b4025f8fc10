"""A client that announces a body and never sends it must not stall the IdP (issue 9,
item 9). Under gunicorn's sync workers two such connections held both workers for 30 s;
`make run` now serves with granian (config/granian.env), where one holds a single thread."""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack

import pytest

from tests.integration.web.served import parse, raw_request

# More than the two of the report, and more than the workers and the CPUs.
STALLED_CONNECTIONS = 8


def open_stalled_connection(port: int, path: bytes) -> socket.socket:
    """POST headers announcing 100 bytes of body, then a few bytes, then silence."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=")
    return connection


def timed(port: int, request_line: bytes, body: bytes = b"", headers: bytes = b"") -> tuple[int, float]:
    started = time.monotonic()
    status, _, _ = parse(raw_request(port, request_line, body, headers, timeout=30))
    return status, time.monotonic() - started


@pytest.mark.slow
def test_clients_that_never_send_their_body_do_not_stall_other_requests(served_by_granian):
    port = served_by_granian
    body = b"grant_type=client_credentials"
    requests = (
        (b"GET /help HTTP/1.1", b"", b"", 200),
        (b"GET /.well-known/openid-configuration HTTP/1.1", b"", b"", 200),
        (b"POST /token HTTP/1.1", body,
         b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n" % len(body), 401),
    )
    for request_line, payload, headers, expected in requests:  # warm both workers
        for _ in range(4):
            timed(port, request_line, payload, headers)
    with ExitStack() as stack:
        for index in range(STALLED_CONNECTIONS):
            stack.enter_context(open_stalled_connection(port, (b"/token", b"/signin")[index % 2]))
        time.sleep(0.5)  # real time, not the app's clock: the stalled requests reach the app
        for request_line, payload, headers, expected in requests:
            status, seconds = timed(port, request_line, payload, headers)
            assert status == expected
            # Under a second even on a loaded machine; gunicorn's sync workers took 30 s here.
            assert seconds < 1, f"{request_line!r} took {seconds:.2f} s behind {STALLED_CONNECTIONS} stalled clients"
