"""One machine request at a time per process on SQLite, four on PostgreSQL
(MACHINE_REQUESTS_AT_ONCE, issue 10): the requests answered before Flask hold the process's
gate while they work, after their body is read, and let it go whatever happens; the other
requests never wait for it; and they can never take the whole connection pool."""

from __future__ import annotations

import threading

import pytest

from idp import create_app
from idp.oidc.before_flask import machine_gate
from tests.integration.perf.test_client_auth_limit import machine_client
from tests.oidc_support import basic_auth

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


SQLITE, POSTGRESQL = "sqlite:///var/idp.sqlite3", "postgresql+psycopg://idp@db/idp"


@pytest.mark.parametrize(("setting", "uri", "at_once"), [
    ("auto", SQLITE, 1),
    ("auto", POSTGRESQL, 4),
    (1, POSTGRESQL, 1),
    (3, SQLITE, 3),
    (7, POSTGRESQL, 7),  # half of QueuePool's 5 + 10, rounded down
])
def test_the_setting_chooses_the_gate(setting, uri, at_once):
    gate = machine_gate(setting, uri, {})
    if at_once == 1:
        assert isinstance(gate, type(threading.Lock()))
    else:
        assert all(gate.acquire(blocking=False) for _ in range(at_once))
        assert not gate.acquire(blocking=False)


@pytest.mark.parametrize("setting", [0, -1, "two", True, 1.5, None])
def test_a_wrong_setting_stops_the_start(setting):
    with pytest.raises(ValueError, match="MACHINE_REQUESTS_AT_ONCE"):
        machine_gate(setting, SQLITE, {})


@pytest.mark.parametrize(("setting", "options", "fits"), [
    (8, {}, False),  # 16 connections wanted, 15 in the pool
    (8, {"pool_size": 6}, True),
    ("auto", {"pool_size": 2, "max_overflow": 5}, False),  # PostgreSQL's four want eight
    (40, {"max_overflow": -1}, True),  # no bound
])
def test_the_gate_never_lets_machine_requests_take_the_whole_pool(setting, options, fits):
    """Each may hold two connections: all holding one and waiting for a second would wait
    for each other until the pool's timeout (what a PostgreSQL bench with no gate did)."""
    if fits:
        machine_gate(setting, POSTGRESQL, options)
    else:
        with pytest.raises(ValueError, match="pool"):
            machine_gate(setting, POSTGRESQL, options)


def test_a_wrong_setting_names_itself_when_the_app_is_built(app):
    with pytest.raises(ValueError, match="MACHINE_REQUESTS_AT_ONCE"):
        create_app({**app.config, "MACHINE_REQUESTS_AT_ONCE": "many"})


def take_every_turn(gate) -> int:
    """Hold the gate whole (one turn on SQLite, four on PostgreSQL): how many turns taken."""
    taken = 0
    while gate.acquire(blocking=False):
        taken += 1
    return taken


def give_back(gate, turns: int) -> None:
    for _ in range(turns):
        gate.release()


def ask_in_a_thread(app, path, **kwargs):
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(app.test_client().post(path, **kwargs)))
    thread.start()
    return thread, answers


def test_a_machine_request_waits_for_the_gate_and_others_do_not(app, client):
    rp = machine_client(app)
    gate = app.extensions["machine_gate"]
    turns = take_every_turn(gate)
    assert turns == (1 if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else 4)  # "auto"
    try:
        thread, answers = ask_in_a_thread(app, "/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp))
        thread.join(0.5)
        assert thread.is_alive() and not answers  # held at the gate
        # A page, discovery and a request left to Flask (a DPoP proof) go by.
        assert client.get("/.well-known/openid-configuration").status_code == 200
        assert client.get("/health/live").status_code == 200
        assert client.post("/token", data=CLIENT_CREDENTIALS, headers={**basic_auth(rp), "DPoP": "x"}).status_code == 400
    finally:
        give_back(gate, turns)
    thread.join(10)
    assert answers[0].status_code == 200 and "access_token" in answers[0].get_json()
    assert take_every_turn(gate) == turns  # the request gave its turn back
    give_back(gate, turns)


def test_the_gate_is_given_back_when_the_work_fails(app, client, monkeypatch):
    rp = machine_client(app)
    from idp.oidc import token_server

    def failing(self, environ, form):
        raise RuntimeError("boom")

    monkeypatch.setattr(token_server.TokenServer, "answer", failing)
    gate = app.extensions["machine_gate"]
    turns = take_every_turn(gate)
    give_back(gate, turns)
    response = client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp))
    assert response.status_code == 200  # Flask answered
    assert take_every_turn(gate) == turns  # every turn free again
    give_back(gate, turns)


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
