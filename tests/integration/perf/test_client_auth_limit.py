"""Failed client authentications at /token, /introspect and /revoke, per client address
(RATE-06; idp.web.client_auth_limit): counted without Flask-Limiter's request hook, in its
storage, so two hosts with one Redis share the count."""

from __future__ import annotations

import pytest

from tests.conftest import build_app
from tests.integration.signin.test_shared_limits import _started, close_hosts, host  # noqa: F401  (fixture)
from tests.oidc_support import RegisteredClient, basic_auth, make_client
from tests.redis_support import redis_url  # noqa: F401  (the fixture)

LIMIT = {"OIDC_CLIENT_AUTH_RATE_LIMIT": "3 per hour"}
ELSEWHERE = {"REMOTE_ADDR": "192.0.2.7"}


def machine_client(app) -> RegisteredClient:
    return make_client(app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=(),
                       scope="openid")


def wrong(rp: RegisteredClient) -> dict[str, str]:
    return basic_auth(RegisteredClient(rp.client_id, "not-the-secret"))


def client_credentials(client, headers, **kwargs):
    return client.post("/token", data={"grant_type": "client_credentials"}, headers=headers, **kwargs)


@pytest.mark.settings(**LIMIT)
def test_failures_from_an_address_end_in_429_on_every_token_endpoint(app, client):
    rp = machine_client(app)
    statuses = [client_credentials(client, wrong(rp)).status_code,
                client.post("/introspect", data={"token": "x"}, headers=wrong(rp)).status_code,
                client.post("/revoke", data={"token": "x"}, headers=wrong(rp)).status_code]
    assert statuses == [401, 401, 401]
    # Now even the right secret is refused from that address, on each endpoint.
    refused = client_credentials(client, basic_auth(rp))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"] == "too_many_requests" and refused.headers["Cache-Control"] == "no-store"
    assert refused.headers["X-Content-Type-Options"] == "nosniff"
    assert client.post("/introspect", data={"token": "x"}, headers=basic_auth(rp)).status_code == 429
    assert client.post("/revoke", data={"token": "x"}, headers=basic_auth(rp)).status_code == 429
    # Another address is not affected.
    assert client_credentials(client, basic_auth(rp), environ_base=ELSEWHERE).status_code == 200


@pytest.mark.settings(**LIMIT)
def test_successes_and_other_errors_do_not_count(app, client):
    rp = machine_client(app)
    for _ in range(5):
        assert client_credentials(client, basic_auth(rp)).status_code == 200
        assert client.post("/token", data={"grant_type": "refresh_token", "refresh_token": "unknown"},
                           headers=basic_auth(rp)).status_code == 400  # invalid_grant is no guess of a secret
        assert client.post("/introspect", data={"token": "unknown"}, headers=basic_auth(rp)).status_code == 200


@pytest.mark.settings(OIDC_CLIENT_AUTH_RATE_LIMIT="")
def test_the_limit_can_be_turned_off(app, client):
    rp = machine_client(app)
    assert {client_credentials(client, wrong(rp)).status_code for _ in range(40)} == {401}


def test_two_hosts_with_one_redis_share_the_count(redis_url, database_uri, clock, mailbox):  # noqa: F811
    import redis

    server = redis.Redis.from_url(redis_url)
    server.flushdb()
    settings = {**LIMIT, "RATELIMIT_STORAGE_URI": redis_url}
    first = build_app(database_uri, clock, **settings)
    _started.append(first)
    rp = machine_client(first)
    assert [client_credentials(first.test_client(), wrong(rp)).status_code for _ in range(2)] == [401, 401]
    second = host(database_uri, clock, **settings)
    assert client_credentials(second.test_client(), wrong(rp)).status_code == 401
    assert client_credentials(second.test_client(), basic_auth(rp)).status_code == 429
    assert client_credentials(first.test_client(), basic_auth(rp)).status_code == 429
    assert any("oidc-client-auth" in key.decode() for key in server.keys("*")), "the counts are not in Redis"
    server.close()
