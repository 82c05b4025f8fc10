"""Discovery and the JWKS on their lean path (idp.web.machine.DocumentServer, issue 10): the
same bytes and headers as Flask's views, ETag and 304, the request id, metrics and log line,
and a key rotation seen by every host through the database."""

from __future__ import annotations

import logging

import pytest

from idp import create_app
from idp.extensions import db
from idp.ops import logs
from idp.ops.metrics import REQUESTS
from tests.conftest import smtp_server

DOCUMENTS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/jwks")


def headers_of(response) -> dict[str, str]:
    """Every header but the request id, which is new on each response."""
    return {name: value for name, value in response.headers.items() if name != "X-Request-Id"}


def views_called(app) -> list[str]:
    """Wrap the Flask views of the documents, to see which requests reached Flask."""
    calls: list[str] = []
    for endpoint in ("oidc.discovery", "oidc.jwks"):
        view = app.view_functions[endpoint]

        def counting(*args, _view=view, _endpoint=endpoint, **kwargs):
            calls.append(_endpoint)
            return _view(*args, **kwargs)

        app.view_functions[endpoint] = counting
    return calls


@pytest.mark.parametrize("ttl", [0, 10])
@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_lean_path_answers_what_flask_answers(app, client, path, ttl):
    app.extensions["oidc_server"].key_ring.ttl = ttl
    calls = views_called(app)
    lean = client.get(path)
    assert calls == [] and lean.status_code == 200
    # A query string goes on to Flask, whose view answers the same document.
    flask = client.get(path + "?via=flask")
    assert calls and flask.status_code == 200
    assert lean.data == flask.data and headers_of(lean) == headers_of(flask)
    assert lean.headers["Content-Type"] == "application/json"
    assert lean.headers["Cache-Control"] == ("public, max-age=60" if path == "/jwks" else "public, max-age=300")
    for name in ("X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy", "X-Frame-Options"):
        assert lean.headers[name]
    assert "Content-Security-Policy" not in lean.headers and "Set-Cookie" not in lean.headers
    head_lean, head_flask = client.head(path), client.head(path + "?via=flask")
    assert head_lean.data == b"" == head_flask.data and headers_of(head_lean) == headers_of(head_flask)
    for conditional in (lean.headers["ETag"], f"W/{lean.headers['ETag']}", f'"other", {lean.headers["ETag"]}', "*"):
        not_lean = client.get(path, headers={"If-None-Match": conditional})
        not_flask = client.get(path + "?via=flask", headers={"If-None-Match": conditional})
        assert not_lean.status_code == 304 == not_flask.status_code
        assert not_lean.data == b"" == not_flask.data and headers_of(not_lean) == headers_of(not_flask)
        assert not_lean.headers["ETag"] == lean.headers["ETag"] and "Content-Type" not in not_lean.headers
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.settings(OIDC_ISSUER="https://idp.example")
def test_hsts_over_https_on_both_paths(client):
    assert client.get("/jwks").headers["Strict-Transport-Security"].startswith("max-age=")
    assert client.get("/jwks?x=1").headers["Strict-Transport-Security"].startswith("max-age=")


def test_other_methods_and_malformed_queries_get_flask_answers(client):
    assert client.post("/jwks").status_code == 405
    assert client.delete("/.well-known/openid-configuration").status_code == 405
    assert client.get("/jwks?x=%00").status_code == 400  # the input guard still refuses NUL


class RequestIds(logging.Handler):
    """The request id each idp.request line was written under (the JSON formatter's source)."""

    def __init__(self):
        super().__init__()
        self.seen: list[tuple[logging.LogRecord, str | None]] = []

    def emit(self, record):
        self.seen.append((record, logs.REQUEST_ID.get()))


def test_request_id_metrics_and_log_line(app, client, caplog):
    before = REQUESTS.labels("oidc.discovery", "GET", "200")._value.get()
    handler = RequestIds()
    logging.getLogger("idp.request").addHandler(handler)
    try:
        with caplog.at_level(logging.INFO, logger="idp.request"):
            response = client.get("/.well-known/openid-configuration", headers={"X-Request-Id": "proxy-id-12345678"})
    finally:
        logging.getLogger("idp.request").removeHandler(handler)
    assert response.headers["X-Request-Id"] == "proxy-id-12345678"
    assert REQUESTS.labels("oidc.discovery", "GET", "200")._value.get() == before + 1
    line, request_id = handler.seen[-1]
    assert (line.endpoint, line.method, line.status) == ("oidc.discovery", "GET", 200)
    assert request_id == "proxy-id-12345678" and logs.REQUEST_ID.get() is None
    # An id that could forge a log line is replaced by a fresh one.
    assert client.get("/jwks", headers={"X-Request-Id": "bad id <script>"}).headers["X-Request-Id"] != "bad id <script>"
    not_modified = client.get("/jwks", headers={"If-None-Match": "*"})
    assert REQUESTS.labels("oidc.jwks", "GET", "304")._value.get() >= 1 and not_modified.headers["X-Request-Id"]


def second_host(app, database_uri, clock):
    """Another app on the same database, as another host would be (no reset)."""
    return create_app({"SQLALCHEMY_DATABASE_URI": database_uri, "OIDC_ISSUER": app.config["OIDC_ISSUER"],
                       "SMTP_PORT": smtp_server().port, "SMTP_HOST": "127.0.0.1"}, clock=clock)


def test_a_key_rotation_changes_the_jwks_and_its_etag_on_every_host(app, client, database_uri, clock):
    other = second_host(app, database_uri, clock)
    other_client = other.test_client()
    first, seen_elsewhere = client.get("/jwks"), other_client.get("/jwks")
    assert first.data == seen_elsewhere.data and first.headers["ETag"] == seen_elsewhere.headers["ETag"]
    with app.app_context():
        app.extensions["oidc_server"].keys().rotate(publish_ahead=0)
        db.session.commit()
    after, after_elsewhere = client.get("/jwks"), other_client.get("/jwks")
    assert after.headers["ETag"] != first.headers["ETag"]
    assert after.data == after_elsewhere.data and after.headers["ETag"] == after_elsewhere.headers["ETag"]
    assert len(after.get_json()["keys"]) == 2 * len(first.get_json()["keys"])
    # A cache holding the old document gets the new one, not a 304.
    assert client.get("/jwks", headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    assert other_client.get("/jwks", headers={"If-None-Match": after.headers["ETag"]}).status_code == 304
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_worker_rereads_the_keys_once_its_copy_is_stale(app, client, monkeypatch):
    """Within OIDC_KEY_CACHE_TTL a worker serves its copy; past it, the database's keys."""
    ring = app.extensions["oidc_server"].key_ring
    ring.ttl = 10
    first = client.get("/jwks")
    with app.app_context():
        app.extensions["oidc_server"].keys().rotate(publish_ahead=0)
        db.session.commit()
    assert client.get("/jwks").headers["ETag"] == first.headers["ETag"]
    now = __import__("time").monotonic()
    monkeypatch.setattr("idp.oidc.directory.time.monotonic", lambda: now + 11)
    assert client.get("/jwks").headers["ETag"] != first.headers["ETag"]


def test_a_failed_key_read_is_answered_by_flask(app, client, monkeypatch):
    """The lean path never answers an error of its own: Flask's handlers do (503 here)."""
    server = app.extensions["oidc_server"]

    def unavailable(*args, **kwargs):
        from sqlalchemy.exc import OperationalError

        raise OperationalError("SELECT", {}, Exception("database is down"))

    monkeypatch.setattr(server, "active_keys", unavailable)
    response = client.get("/jwks")
    assert response.status_code == 503 and response.headers["X-Request-Id"]
