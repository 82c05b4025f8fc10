"""Counters shared by every worker and host (issue 9): the per-address rate limits count in
the Redis of RATELIMIT_STORAGE_URI, the per-account failures and locks in the database.

Two create_app() with the same settings stand for two hosts. Flask-Limiter's extension is
one object per process, so each new app points it at its own storage: the first "host"
counts, then the second, built afterwards, must see those counts. With memory:// it does
not (the control test), with a real Redis it does.
"""

from __future__ import annotations

import pytest

from idp import create_app
from idp.accounts.models import User
from idp.extensions import db
from tests.conftest import BufferedClient, build_app, smtp_server
from tests.integration.signin.support import PASSWORD, SignIn, make_user
from tests.redis_support import redis_url  # noqa: F401  (the fixture)

ADDRESS_LIMIT = "2 per hour"


_started: list = []


@pytest.fixture(autouse=True)
def close_hosts():
    """Each extra app's database connections are closed when its test ends."""
    yield
    while _started:
        with _started.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def host(database_uri: str, clock, **settings):
    """Another host of the same deployment: same settings and database, nothing reset."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_uri, "OIDC_ISSUER": "http://127.0.0.1:5000",
         "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server().port, **settings},
        clock=clock,
    )
    app.test_client_class = BufferedClient
    _started.append(app)
    return app


def wrong_password(app, email: str = "nobody@example.ca") -> int:
    browser = SignIn(app.test_client())
    return browser.submit_password(email, "not the password", browser.start()).status_code


def limited_hosts(database_uri, clock, storage_uri: str):
    settings = {"RATELIMIT_STORAGE_URI": storage_uri, "SIGNIN_RATE_LIMIT": ADDRESS_LIMIT}
    first = build_app(database_uri, clock, **settings)
    _started.append(first)
    assert [wrong_password(first), wrong_password(first)] == [422, 422]
    return first, host(database_uri, clock, **settings)


def test_two_hosts_with_one_redis_share_the_limit_on_an_address(redis_url, database_uri, clock, mailbox):  # noqa: F811
    import redis

    server = redis.Redis.from_url(redis_url)
    server.flushdb()  # whatever an earlier test counted there
    first, second = limited_hosts(database_uri, clock, redis_url)
    assert wrong_password(second) == 429
    assert wrong_password(first) == 429
    assert server.keys("*"), "the counts are not in Redis"
    server.close()


def test_with_memory_storage_each_host_counts_alone(database_uri, clock, mailbox):
    """The control: without a shared store the second host starts from zero, which is what
    the Redis test would see if its counts did not reach Redis."""
    _, second = limited_hosts(database_uri, clock, "memory://")
    assert wrong_password(second) == 422


@pytest.mark.settings(SIGNIN_RATE_LIMIT="1000 per hour")
def test_two_hosts_count_failures_and_locks_of_one_account_together(app, database_uri, clock, mailbox):
    """Per-account counters live in the shared database: failures alternating between two
    hosts lock the account at the threshold, not at twice it."""
    make_user(app)
    other = host(database_uri, clock, SIGNIN_RATE_LIMIT="1000 per hour")
    for failure in range(app.config["SIGNIN_LOCK_THRESHOLD"]):
        clock.advance(app.config["SIGNIN_MAX_DELAY"])
        assert wrong_password(app if failure % 2 else other, "ana@example.ca") == 422
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert user.failed_signin_count == app.config["SIGNIN_LOCK_THRESHOLD"] and user.signin_lock_count == 1
    browser = SignIn(other.test_client())
    assert browser.submit_password("ana@example.ca", PASSWORD, browser.start()).status_code == 422
