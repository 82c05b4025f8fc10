"""One machine request at a time per process on SQLite (MACHINE_REQUESTS_AT_ONCE, issue 10):
the requests answered before Flask hold the process's gate while they work, after their
body is read, and let it go whatever happens; the other requests never wait for it."""

from __future__ import annotations

import threading
from contextlib import nullcontext

import pytest

from idp import create_app
from idp.oidc.before_flask import machine_gate
from tests.integration.perf.test_client_auth_limit import machine_client
from tests.oidc_support import basic_auth

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


@pytest.mark.parametrize(("setting", "uri", "kind"), [
    ("auto", "sqlite:///var/idp.sqlite3", type(threading.Lock())),
    ("auto", "postgresql+psycopg://idp@db/idp", nullcontext),
    (0, "sqlite:///var/idp.sqlite3", nullcontext),
    (1, "postgresql+psycopg://idp@db/idp", type(threading.Lock())),
    (4, "sqlite:///var/idp.sqlite3", threading.BoundedSemaphore),
])
def test_the_setting_chooses_the_gate(setting, uri, kind):
    assert isinstance(machine_gate(setting, uri), kind)


@pytest.mark.parametrize("setting", [-1, "two", True, 1.5, None])
def test_a_wrong_setting_stops_the_start(setting):
    with pytest.raises(ValueError, match="MACHINE_REQUESTS_AT_ONCE"):
        machine_gate(setting, "sqlite:///var/idp.sqlite3")


def test_a_wrong_setting_names_itself_when_the_app_is_built(app):
    with pytest.raises(ValueError, match="MACHINE_REQUESTS_AT_ONCE"):
        create_app({**app.config, "MACHINE_REQUESTS_AT_ONCE": "many"})


def ask_in_a_thread(app, path, **kwargs):
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(app.test_client().post(path, **kwargs)))
    thread.start()
    return thread, answers


def test_a_machine_request_waits_for_the_gate_and_others_do_not(app, client):
    rp = machine_client(app)
    gate = app.extensions["machine_gate"]
    assert isinstance(gate, type(threading.Lock()))  # the tests' SQLite: "auto" is one at a time
    gate.acquire()
    try:
        thread, answers = ask_in_a_thread(app, "/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp))
        thread.join(0.5)
        assert thread.is_alive() and not answers  # held at the gate
        # A page, discovery and a request left to Flask (a DPoP proof) go by.
        assert client.get("/.well-known/openid-configuration").status_code == 200
        assert client.get("/health/live").status_code == 200
        assert client.post("/token", data=CLIENT_CREDENTIALS, headers={**basic_auth(rp), "DPoP": "x"}).status_code == 400
    finally:
        gate.release()
    thread.join(10)
    assert answers[0].status_code == 200 and "access_token" in answers[0].get_json()
    assert not gate.locked()


def test_the_gate_is_given_back_when_the_work_fails(app, client, monkeypatch):
    rp = machine_client(app)
    from idp.oidc import token_server

    def failing(self, environ, form):
        raise RuntimeError("boom")

    monkeypatch.setattr(token_server.TokenServer, "answer", failing)
    response = client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp))
    assert response.status_code == 200  # Flask answered
    assert not app.extensions["machine_gate"].locked()


class SlowBody:
    """A request body that arrives only when the test says so."""

    def __init__(self, body: bytes):
        self.body, self.arrived, self.reading = body, threading.Event(), threading.Event()

    def read(self, size=-1):
        self.reading.set()
        assert self.arrived.wait(10)
        return self.body


def test_a_slow_body_is_read_before_the_gate(app):
    rp = machine_client(app)
    body = SlowBody(b"grant_type=client_credentials")
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/token", "QUERY_STRING": "", "SERVER_NAME": "localhost",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
               "wsgi.input": body, "wsgi.errors": None, "CONTENT_TYPE": "application/x-www-form-urlencoded",
               "CONTENT_LENGTH": str(len(body.body)), "HTTP_AUTHORIZATION": basic_auth(rp)["Authorization"]}
    statuses: list[str] = []
    thread = threading.Thread(target=lambda: b"".join(app(environ, lambda status, headers: statuses.append(status))))
    thread.start()
    assert body.reading.wait(10)
    gate = app.extensions["machine_gate"]
    assert gate.acquire(timeout=1)  # free while the client is slow
    gate.release()
    body.arrived.set()
    thread.join(10)
    assert statuses == ["200 OK"]
