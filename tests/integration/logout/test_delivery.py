"""`idp worker` sends logout tokens to real HTTP receivers on loopback (issue 14): a signed
logout token as the form's only parameter; a receiver that hangs, answers 500 or is down
never delays the sign-out page, is retried with back-off a bounded number of times; a 4xx is
never retried; every attempt is recorded and `idp logout deliveries` lists them."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.cli import main
from idp.extensions import db
from idp.logout.models import LogoutAttempt
from idp.ops.worker import Worker
from tests.logout_support import (
    Receiver,
    deliveries,
    down_url,
    logout_client,
    sign_in_to,
)
from tests.oidc_support import PKCE_VERIFIER, basic_auth, csrf_token, make_user

FAST = {"LOGOUT_TIMEOUT": 0.5, "LOGOUT_MAX_ATTEMPTS": 3, "LOGOUT_RETRY_DELAY": 30}


@pytest.fixture
def receiver(request):
    listening = Receiver(request.param if hasattr(request, "param") else "ok")
    yield listening
    listening.stop()


def sign_in_and_out(app, client, uri: str, **client_options):
    """Sign in to one client with this back-channel URI, redeem the code, sign out here."""
    make_user(app)
    rp = logout_client(app, "Portail A", backchannel=uri, **client_options)
    code = sign_in_to(client, rp)[0]["code"]
    tokens = client.post("/token", headers=basic_auth(rp), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
        "code_verifier": PKCE_VERIFIER}).get_json()
    page = client.get("/signout")
    started = time.monotonic()
    response = client.post("/signout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    return rp, tokens, time.monotonic() - started


def run_worker(app) -> None:
    Worker(app, jobs=("logout",)).run_once()


def attempts(app) -> list[LogoutAttempt]:
    with app.app_context():
        found = list(db.session.query(LogoutAttempt).order_by(LogoutAttempt.id))
        db.session.expunge_all()
        return found


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_the_worker_posts_a_logout_token_signed_like_the_id_tokens(app, client, receiver, alg):
    rp, tokens, _ = sign_in_and_out(app, client, receiver.url, id_token_alg=alg)
    assert receiver.received == []  # the request only queued
    delivered_before = logout_deliveries_counted("delivered")
    run_worker(app)
    assert len(receiver.received) == 1 and list(receiver.received[0]) == ["logout_token"]
    assert logout_deliveries_counted("delivered") == delivered_before + 1
    keys = KeySet.import_key_set(client.get("/jwks").get_json())
    token = jwt.decode(receiver.tokens()[0], keys, algorithms=[alg])
    id_token = jwt.decode(tokens["id_token"], keys, algorithms=[alg])
    assert token.header["typ"] == "logout+jwt" and token.header["alg"] == alg and token.header["kid"]
    claims = token.claims
    assert claims["iss"] == "http://127.0.0.1:5000" and claims["aud"] == rp.client_id
    assert claims["sub"] == id_token.claims["sub"] and claims["sid"] == id_token.claims["sid"]
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert claims["jti"] and claims["exp"] > claims["iat"] and "nonce" not in claims
    [delivery] = deliveries(app)
    assert delivery.state == "delivered" and delivery.attempts == 1
    assert [(attempt.status, attempt.outcome) for attempt in attempts(app)] == [(200, "delivered")]
    run_worker(app)
    assert logout_deliveries_counted("delivered") == delivered_before + 1  # nothing more was sent
    assert len(receiver.received) == 1  # never twice


@pytest.mark.settings(**FAST)
@pytest.mark.parametrize("receiver", ["hang"], indirect=True)
def test_a_receiver_that_hangs_never_delays_the_sign_out_and_is_retried_a_bounded_number_of_times(
        app, client, receiver, clock):
    _, _, took = sign_in_and_out(app, client, receiver.url)
    assert receiver.received == [] and took < 0.5
    for attempt in range(1, 4):
        started = time.monotonic()
        run_worker(app)
        assert time.monotonic() - started < 5  # LOGOUT_TIMEOUT bounds each attempt
        [delivery] = deliveries(app)
        assert delivery.attempts == attempt and delivery.last_status is None
        if attempt < 3:
            assert delivery.state == "queued"
            assert delivery.next_attempt_at == clock() + timedelta(seconds=30 * 2 ** (attempt - 1))
            run_worker(app)  # not due yet: nothing sent
            assert len(receiver.received) == attempt
            clock.advance(seconds=30 * 2 ** (attempt - 1))
    assert deliveries(app)[0].state == "failed"
    assert [attempt.outcome for attempt in attempts(app)] == ["retry", "retry", "failed"]
    assert "Timeout" in attempts(app)[0].error
    clock.advance(hours=2)
    run_worker(app)
    assert len(receiver.received) == 3


@pytest.mark.settings(**FAST)
@pytest.mark.parametrize("receiver", ["error"], indirect=True)
def test_a_receiver_that_answers_500_is_retried_with_back_off_then_given_up(app, client, receiver, clock):
    sign_in_and_out(app, client, receiver.url)
    for delay in (30, 60, 0):
        run_worker(app)
        clock.advance(seconds=delay)
    assert len(receiver.received) == 3
    [delivery] = deliveries(app)
    assert delivery.state == "failed" and delivery.last_status == 500
    assert [(attempt.status, attempt.outcome) for attempt in attempts(app)] == [
        (500, "retry"), (500, "retry"), (500, "failed")]
    clock.advance(hours=2)
    run_worker(app)
    assert len(receiver.received) == 3


@pytest.mark.settings(**FAST)
def test_a_receiver_that_is_down_is_retried(app, client, clock):
    _, _, took = sign_in_and_out(app, client, down_url())
    assert took < 0.5
    run_worker(app)
    [delivery] = deliveries(app)
    assert delivery.state == "queued" and delivery.attempts == 1 and delivery.last_status is None
    assert "ConnectionError" in attempts(app)[0].error


@pytest.mark.settings(**FAST)
@pytest.mark.parametrize("receiver", ["refuse"], indirect=True)
def test_a_4xx_is_never_retried(app, client, receiver, clock):
    failed_before = logout_deliveries_counted("failed")
    sign_in_and_out(app, client, receiver.url)
    run_worker(app)
    assert logout_deliveries_counted("failed") == failed_before + 1  # the metric operators watch
    clock.advance(hours=2)
    run_worker(app)
    assert len(receiver.received) == 1
    [delivery] = deliveries(app)
    assert delivery.state == "failed" and delivery.last_status == 400
    assert "invalid_request" in delivery.last_error


@pytest.mark.settings(**FAST)
@pytest.mark.parametrize("receiver", ["refuse"], indirect=True)
def test_operators_list_deliveries_and_their_attempts(app, client, receiver):
    rp, _, _ = sign_in_and_out(app, client, receiver.url)
    runner = CliRunner()
    queued = runner.invoke(main, ["logout", "deliveries"], obj=app, catch_exceptions=False)
    assert queued.exit_code == 0 and "queued" in queued.output and rp.client_id in queued.output
    assert "no failed deliveries" in runner.invoke(main, ["logout", "deliveries", "--failed"], obj=app).output
    run_worker(app)
    failed = runner.invoke(main, ["logout", "deliveries", "--failed", "--json"], obj=app, catch_exceptions=False)
    [row] = json.loads(failed.stdout)
    assert row["state"] == "failed" and row["client_id"] == rp.client_id and row["uri"] == receiver.url
    assert [(attempt["status"], attempt["outcome"]) for attempt in row["attempts"]] == [(400, "failed")]
    text = runner.invoke(main, ["logout", "deliveries"], obj=app, catch_exceptions=False).output
    assert "HTTP 400" in text and "-> failed" in text


def test_a_deleted_client_is_given_up_without_a_request(app, client, receiver):
    rp, _, _ = sign_in_and_out(app, client, receiver.url)
    result = CliRunner().invoke(main, ["clients", "delete", rp.client_id, "--yes"], obj=app, catch_exceptions=False)
    assert result.exit_code == 0
    run_worker(app)
    assert receiver.received == [] and deliveries(app)[0].state == "failed"


@pytest.mark.settings(**FAST)
@pytest.mark.parametrize("receiver", ["refuse"], indirect=True)
def test_the_worker_prunes_finished_deliveries_after_a_week(app, client, receiver, clock):
    sign_in_and_out(app, client, receiver.url)
    run_worker(app)  # given up: finished
    with app.app_context():
        Worker(app, jobs=("prune",)).prune()
    assert len(deliveries(app)) == 1 and len(attempts(app)) == 1  # operators see it for a week
    clock.advance(days=8)
    with app.app_context():
        deleted = Worker(app, jobs=("prune",)).prune()
    assert deleted["logout_deliveries"] == 1 and deliveries(app) == [] and attempts(app) == []


def logout_deliveries_counted(outcome: str) -> float:
    """passerelle_backchannel_logout_deliveries_total{outcome} in this process (issue 15)."""
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("passerelle_backchannel_logout_deliveries_total", {"outcome": outcome}) or 0.0
