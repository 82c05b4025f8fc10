"""UserInfo, introspection and revocation answered before Flask (idp.oidc.resource_server,
issue 10): the same status, body and headers as Flask's views give, the request id, metrics
and log line, and every request it must not answer handed to Flask whole, with nothing
written."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from idp.extensions import db
from idp.oidc import driver_sql, resource_server
from idp.oidc.models import Token
from idp.ops.metrics import REQUESTS
from tests.integration.perf.test_client_auth_limit import wrong
from tests.integration.perf.test_resource_endpoints import FULL_SCOPE, bearer, set_user, tokens_for
from tests.oidc_support import PKCE_VERIFIER, SignIn, authorization_params, basic_auth, make_client, make_user


class Paths:
    """Which requests the resource server answered before Flask (the rest reached Flask)."""

    def __init__(self, monkeypatch):
        self.seen: list[str] = []
        original = resource_server.ResourceServer.answer

        def watched(server, environ, taken):
            answer = original(server, environ, taken)
            self.seen.append("before-flask" if answer is not None else "flask")
            return answer

        monkeypatch.setattr(resource_server.ResourceServer, "answer", watched)

    def last(self) -> str:
        return self.seen[-1] if self.seen else "flask"


def in_flask(monkeypatch, send):
    """The same request through Flask's view: the resource server takes nothing."""
    with monkeypatch.context() as patch:
        patch.setattr(resource_server.ResourceServer, "take", lambda server, environ: None)
        return send()


def comparable(response) -> tuple[int, bytes, dict[str, str]]:
    headers = {name: value for name, value in response.headers.items() if name != "X-Request-Id"}
    return response.status_code, response.data, headers


def assert_same_answer_as_flask(monkeypatch, send) -> None:
    paths = Paths(monkeypatch)
    before_flask = send()
    assert paths.last() == "before-flask", before_flask.get_data(as_text=True)
    flask_answer = in_flask(monkeypatch, send)
    assert comparable(before_flask) == comparable(flask_answer)
    assert before_flask.status_code == 200 and before_flask.headers["Content-Length"] == str(len(before_flask.data))
    assert before_flask.headers["Cache-Control"] == "no-store" and before_flask.headers["Pragma"] == "no-cache"
    assert before_flask.headers["X-Content-Type-Options"] == "nosniff"


def revoked_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Token).where(Token.revoked_at.is_not(None)))


@pytest.mark.parametrize("scope", ["openid", "openid profile", FULL_SCOPE])
def test_userinfo_get_before_flask_is_the_views(app, client, monkeypatch, scope):
    rp = make_client(app, scope=FULL_SCOPE)
    user_id = make_user(app)
    set_user(app, user_id, phone_number="+15145550123", phone_number_verified=True, locale="fr",
             address={"locality": "Québec", "country": "CA"})
    access = tokens_for(client, rp, scope)["access_token"]
    assert_same_answer_as_flask(monkeypatch, lambda: client.get("/userinfo", headers=bearer(access)))


def test_userinfo_post_with_the_token_in_the_body_or_header(app, client, monkeypatch):
    rp = make_client(app, scope=FULL_SCOPE)
    make_user(app)
    access = tokens_for(client, rp, "openid email")["access_token"]
    assert_same_answer_as_flask(monkeypatch, lambda: client.post("/userinfo", data={"access_token": access}))
    assert_same_answer_as_flask(monkeypatch, lambda: client.post("/userinfo", data={"x": "1"}, headers=bearer(access)))


@pytest.mark.parametrize("subject_type", ["pairwise", "public"])
def test_userinfo_and_introspection_give_the_clients_subject(app, client, monkeypatch, subject_type):
    rp = make_client(app, subject_type=subject_type)
    make_user(app)
    access = tokens_for(client, rp, "openid")["access_token"]
    assert_same_answer_as_flask(monkeypatch, lambda: client.get("/userinfo", headers=bearer(access)))
    assert_same_answer_as_flask(monkeypatch, lambda: client.post("/introspect", data={"token": access},
                                                                  headers=basic_auth(rp)))


def test_introspection_of_access_refresh_and_unknown_tokens(app, client, monkeypatch):
    rp = make_client(app, scope=FULL_SCOPE)
    make_user(app)
    tokens = tokens_for(client, rp, "openid profile offline_access")
    for token in (tokens["access_token"], tokens["refresh_token"], "unknown-token"):
        assert_same_answer_as_flask(monkeypatch, lambda token=token: client.post(
            "/introspect", data={"token": token}, headers=basic_auth(rp)))
    unknown = client.post("/introspect", data={"token": "unknown-token"}, headers=basic_auth(rp))
    assert unknown.get_json() == {"active": False}


def test_introspection_with_client_secret_post(app, client, monkeypatch):
    rp = make_client(app, auth_method="client_secret_post", grant_types=("client_credentials",), redirect_uris=(),
                     post_logout_redirect_uris=(), scope="openid")
    access = client.post("/token", data={"grant_type": "client_credentials", "client_id": rp.client_id,
                                         "client_secret": rp.client_secret}).get_json()["access_token"]
    assert_same_answer_as_flask(monkeypatch, lambda: client.post("/introspect", data={
        "token": access, "client_id": rp.client_id, "client_secret": rp.client_secret}))


def test_what_it_does_not_answer_reaches_flask_whole(app, client, monkeypatch):
    rp = make_client(app, scope=FULL_SCOPE + " organization")
    make_user(app)
    tokens = tokens_for(client, rp, "openid offline_access")
    access = tokens["access_token"]
    paths = Paths(monkeypatch)
    cases = [
        (lambda: client.get("/userinfo", headers={**bearer(access), "DPoP": "x"}), 200),  # not DPoP-bound
        (lambda: client.get("/userinfo?x=1", headers=bearer(access)), 200),
        (lambda: client.get("/userinfo", headers=bearer("unknown")), 401),
        (lambda: client.get("/userinfo"), 401),
        (lambda: client.get("/userinfo", data="x=%00", headers=bearer(access),  # the input guard's 400
                            content_type="application/x-www-form-urlencoded"), 400),
        (lambda: client.get("/userinfo", headers={"Authorization": "Bearer " + "x" * 600}), 401),
        (lambda: client.post("/userinfo", data={"access_token": access}, headers=bearer(access)), 400),
        (lambda: client.post("/introspect", data={"token": access}, headers=wrong(rp)), 401),
        (lambda: client.post("/introspect", data={"token": ""}, headers=basic_auth(rp)), 400),
        (lambda: client.post("/introspect", data="token=a&token=b", headers=basic_auth(rp),
                             content_type="application/x-www-form-urlencoded"), 400),
        (lambda: client.post("/introspect?token=" + access, data={"token": access}, headers=basic_auth(rp)), 400),
        (lambda: client.post("/revoke", data={"token": access}, headers=wrong(rp)), 401),
    ]
    for number, (send, status) in enumerate(cases):
        assert send().status_code == status, number
        assert "before-flask" not in paths.seen, number
    assert revoked_rows(app) == 0
    # The token still works: nothing was spent or revoked on the way.
    assert client.get("/userinfo", headers=bearer(access)).status_code == 200


def test_a_person_who_may_no_longer_sign_in_is_left_to_flask(app, client, monkeypatch, clock):
    rp = make_client(app)
    user_id = make_user(app)
    access = tokens_for(client, rp, "openid email offline_access")["access_token"]
    set_user(app, user_id, disabled_at=clock())
    paths = Paths(monkeypatch)
    assert client.get("/userinfo", headers=bearer(access)).status_code == 401 and paths.last() == "flask"
    inactive = client.post("/introspect", data={"token": access}, headers=basic_auth(rp))
    assert inactive.get_json() == {"active": False}


@pytest.mark.settings(OIDC_CLIENT_AUTH_RATE_LIMIT="2 per hour")
def test_the_failure_limit_is_flasks_to_answer(app, client, monkeypatch):
    rp = make_client(app)
    for _ in range(2):
        assert client.post("/introspect", data={"token": "x"}, headers=wrong(rp)).status_code == 401
    paths = Paths(monkeypatch)
    refused = client.post("/introspect", data={"token": "x"}, headers=basic_auth(rp))
    assert refused.status_code == 429 and paths.last() == "flask"


def test_a_database_error_leaves_the_request_to_flask(app, client, monkeypatch, caplog):
    rp = make_client(app)
    make_user(app)
    access = tokens_for(client, rp, "openid")["access_token"]
    paths = Paths(monkeypatch)

    def locked(self, statement, params):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    with monkeypatch.context() as patch:
        patch.setattr(driver_sql.DriverConnection, "execute", locked)
        with caplog.at_level(logging.WARNING, logger="idp.oidc.resource_server"):
            response = client.get("/userinfo", headers=bearer(access))
    assert response.status_code == 200 and paths.seen == []  # the answer failed: Flask's view answered
    assert "resource request left to Flask after an error" in caplog.text


def test_request_id_metrics_and_log_line(app, client, caplog):
    rp = make_client(app)
    make_user(app)
    tokens = tokens_for(client, rp, "openid offline_access")
    counted = [REQUESTS.labels(endpoint, method, "200")._value.get()
               for endpoint, method in (("oidc.userinfo", "GET"), ("oidc.introspect", "POST"))]
    with caplog.at_level(logging.INFO, logger="idp.request"):
        userinfo = client.get("/userinfo", headers={**bearer(tokens["access_token"]), "X-Request-Id": "proxy-id-12345678"})
        introspected = client.post("/introspect", data={"token": tokens["refresh_token"]}, headers=basic_auth(rp))
    assert userinfo.headers["X-Request-Id"] == "proxy-id-12345678" and len(introspected.headers["X-Request-Id"]) >= 16
    assert [REQUESTS.labels(endpoint, method, "200")._value.get()
            for endpoint, method in (("oidc.userinfo", "GET"), ("oidc.introspect", "POST"))] == [n + 1 for n in counted]
    logged = {getattr(record, "endpoint", None) for record in caplog.records if getattr(record, "status", None) == 200}
    assert {"oidc.userinfo", "oidc.introspect"} <= logged
    for secret in (tokens["access_token"], tokens["refresh_token"], rp.client_secret):
        assert secret not in caplog.text


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token"])
def test_revocation_before_flask_is_the_views_and_sticks(app, client, monkeypatch, hint):
    rp = make_client(app)
    other = make_client(app, name="Other")
    make_user(app)
    tokens = tokens_for(client, rp, "openid offline_access")
    hinted = {"token_type_hint": hint} if hint else {}

    def revoke(token, who=rp):
        return lambda: client.post("/revoke", data={"token": token, **hinted}, headers=basic_auth(who))

    # Another client's token and an unknown one: the same {} and nothing revoked (RFC 7009 §2.2).
    assert_same_answer_as_flask(monkeypatch, revoke(tokens["access_token"], other))
    assert_same_answer_as_flask(monkeypatch, revoke("unknown-token"))
    assert revoked_rows(app) == 0
    assert_same_answer_as_flask(monkeypatch, revoke(tokens["access_token"]))
    assert client.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post("/introspect", data={"token": tokens["refresh_token"]}, headers=basic_auth(rp)).get_json() == {
        "active": False}
    # A refresh token takes its whole grant with it, the access token issued by refreshing included.
    tokens = tokens_for(client, rp, "openid offline_access")
    refreshed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            headers=basic_auth(rp)).get_json()
    assert_same_answer_as_flask(monkeypatch, revoke(refreshed["refresh_token"]))
    assert client.get("/userinfo", headers=bearer(refreshed["access_token"])).status_code == 401


def test_revocation_by_a_public_client_is_left_to_flask(app, client, monkeypatch):
    rp = make_client(app, auth_method="none", is_public=True)
    make_user(app)
    tokens = tokens_for_public(client, rp)
    paths = Paths(monkeypatch)
    response = client.post("/revoke", data={"token": tokens["access_token"], "client_id": rp.client_id})
    assert response.status_code == 200 and "before-flask" not in paths.seen
    assert client.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 401


def tokens_for_public(client, rp) -> dict:
    code = SignIn(client).code_for(authorization_params(rp, scope="openid"))["code"]
    response = client.post("/token", data={"grant_type": "authorization_code", "code": code, "client_id": rp.client_id,
                                           "redirect_uri": rp.redirect_uri, "code_verifier": PKCE_VERIFIER})
    assert response.status_code == 200, response.get_json()
    return response.get_json()
