"""POST /token answered before Flask (idp.oidc.token_server, issue 10): the same answer as
Flask's view gives, the request id, metrics and log line, and every request it must not
answer handed to Flask whole (its body included), with nothing written."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from flask import has_request_context
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from idp.extensions import db
from idp.oidc import driver_sql, token_endpoint, token_server
from idp.oidc.models import Token
from idp.ops.metrics import REQUESTS
from tests.integration.perf.test_client_auth_limit import machine_client, wrong
from tests.oidc_support import basic_auth

CLIENT_CREDENTIALS = {"grant_type": "client_credentials"}


class Paths:
    """Which path answered: before Flask, Flask's lean path, or Authlib's grants."""

    def __init__(self, monkeypatch):
        self.seen: list[str] = []
        original = token_endpoint.lean_token_answer

        def watched(*args, **kwargs):
            answer = original(*args, **kwargs)
            if answer is not None:
                self.seen.append("flask" if has_request_context() else "before-flask")
            return answer

        monkeypatch.setattr(token_endpoint, "lean_token_answer", watched)

    def last(self) -> str:
        return self.seen[-1] if self.seen else "authlib"


def tokens_issued(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Token))


def comparable_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in ("X-Request-Id", "Content-Length")}


def test_the_answer_before_flask_is_the_views(app, client, monkeypatch):
    rp = machine_client(app)
    paths = Paths(monkeypatch)
    before_flask = client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp))
    assert paths.last() == "before-flask" and before_flask.status_code == 200
    # The same request through Flask's view (the form reader declines it).
    with monkeypatch.context() as patch:
        patch.setattr(token_server, "read_form", lambda environ: None)
        in_flask = client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp))
    assert paths.last() == "flask" and in_flask.status_code == 200
    assert comparable_headers(before_flask) == comparable_headers(in_flask)
    assert before_flask.headers["Content-Length"] == str(len(before_flask.data))
    assert before_flask.headers["Cache-Control"] == "no-store" and before_flask.headers["Pragma"] == "no-cache"
    assert before_flask.headers["X-Content-Type-Options"] == "nosniff"
    first, second = before_flask.get_json(), in_flask.get_json()
    assert sorted(first) == sorted(second) and first["token_type"] == second["token_type"] == "Bearer"
    assert first["access_token"] != second["access_token"] and tokens_issued(app) == 2
    # The token works at the resource endpoints.
    assert client.post("/introspect", data={"token": first["access_token"]},
                       headers=basic_auth(rp)).get_json()["active"] is True


def test_a_charset_in_the_content_type_is_still_a_form(app, client, monkeypatch):
    rp = machine_client(app)
    paths = Paths(monkeypatch)
    response = client.post("/token", data="grant_type=client_credentials", headers=basic_auth(rp),
                           content_type="application/x-www-form-urlencoded; charset=UTF-8")
    assert response.status_code == 200 and paths.last() == "before-flask"


@pytest.mark.parametrize("body, content_type, status", [
    ("grant_type=client_credentials&grant_type=client_credentials", None, 400),  # repeated
    ("grant_type=client_credentials&scope=" + "x" * 5000, None, 400),  # too long for this path
    ("grant_type=client_credentials&scope=caf%C3%A9", None, 400),  # decodes, not a granted scope
    ("grant_type=client_credentials&scope=\u00e9", None, 400),  # not ASCII
    ("grant_type=client_credentials&scope=%00", None, 400),  # NUL: the input guard's 400
    ("scope=openid", None, 400),  # no grant_type
    ('{"grant_type": "client_credentials"}', "application/json", 400),
])
def test_what_it_does_not_answer_reaches_flask_whole(app, client, monkeypatch, body, content_type, status):
    rp = machine_client(app)
    paths = Paths(monkeypatch)
    response = client.post("/token", data=body.encode(), headers=basic_auth(rp),
                           content_type=content_type or "application/x-www-form-urlencoded")
    assert response.status_code == status and paths.last() in ("authlib", "flask")
    assert tokens_issued(app) == 0


def test_a_query_string_or_a_dpop_header_goes_to_flask(app, client, monkeypatch):
    rp = machine_client(app)
    paths = Paths(monkeypatch)
    # Authlib's grant answers both (a query parameter it does not read is ignored).
    assert client.post("/token?x=1", data=CLIENT_CREDENTIALS, headers=basic_auth(rp)).status_code == 200
    dpop = client.post("/token", data=CLIENT_CREDENTIALS, headers={**basic_auth(rp), "DPoP": "x"})
    assert dpop.status_code == 400 and dpop.get_json()["error"] == "invalid_dpop_proof"
    assert paths.seen == []


def test_a_database_error_is_rolled_back_and_flask_answers(app, client, monkeypatch, caplog):
    rp = machine_client(app)
    paths = Paths(monkeypatch)

    def locked(self, statement, params):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    with monkeypatch.context() as patch:
        patch.setattr(driver_sql.DriverConnection, "execute", locked)
        with caplog.at_level(logging.WARNING, logger="idp.oidc.token_server"):
            response = client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp))
    assert response.status_code == 200 and paths.seen == ["flask"]
    assert "left to Flask after an error" in caplog.text
    assert tokens_issued(app) == 1


def test_an_error_before_the_commit_leaves_nothing_behind(app, client, monkeypatch):
    rp = machine_client(app)
    paths = Paths(monkeypatch)
    calls = []

    def dumps_failing(payload):
        calls.append(payload)
        raise ValueError("cannot encode")

    with monkeypatch.context() as patch:
        patch.setattr(token_server, "json", SimpleNamespace(dumps=dumps_failing))
        response = client.post("/token", data=CLIENT_CREDENTIALS, headers=basic_auth(rp))
    assert response.status_code == 200 and paths.seen == ["before-flask", "flask"]
    assert tokens_issued(app) == 1  # the first path's INSERT was rolled back


@pytest.mark.settings(OIDC_CLIENT_AUTH_RATE_LIMIT="2 per hour", PROXY_FIX_X_FOR=1)
def test_the_failure_limit_counts_the_address_behind_the_proxy(app, client):
    rp = machine_client(app)
    behind = {"X-Forwarded-For": "198.51.100.4"}
    for _ in range(2):
        assert client.post("/token", data=CLIENT_CREDENTIALS, headers={**wrong(rp), **behind}).status_code == 401
    refused = client.post("/token", data=CLIENT_CREDENTIALS, headers={**basic_auth(rp), **behind})
    assert refused.status_code == 429 and refused.get_json()["error"] == "too_many_requests"
    other = client.post("/token", data=CLIENT_CREDENTIALS, headers={**basic_auth(rp), "X-Forwarded-For": "198.51.100.5"})
    assert other.status_code == 200


def test_request_id_metrics_and_log_line(app, client, caplog):
    rp = machine_client(app)
    before = REQUESTS.labels("oidc.token", "POST", "200")._value.get()
    with caplog.at_level(logging.INFO, logger="idp.request"):
        response = client.post("/token", data=CLIENT_CREDENTIALS,
                               headers={**basic_auth(rp), "X-Request-Id": "proxy-id-12345678"})
    assert response.status_code == 200 and response.headers["X-Request-Id"] == "proxy-id-12345678"
    assert REQUESTS.labels("oidc.token", "POST", "200")._value.get() == before + 1
    assert any(getattr(record, "endpoint", None) == "oidc.token" and record.status == 200 for record in caplog.records)
    # The log line and the token must never carry the secret or the token.
    assert response.get_json()["access_token"] not in caplog.text and rp.client_secret not in caplog.text
