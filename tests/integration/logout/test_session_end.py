"""Every way a session ends queues one back-channel logout delivery per relying party it
signed into that has a backchannel_logout_uri (issue 14): sign-out here, RP-initiated
logout, « Se déconnecter partout », expiry noticed by `idp worker`, an operator, a password
reset. The request that ends the session only queues: nothing is sent before the worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from idp.cli import main
from idp.context import app_context
from idp.extensions import db
from idp.logout.delivery import get_logout_service
from idp.logout.models import SessionClient
from idp.oidc.revocation import end_all_access
from idp.ops.worker import Worker
from idp.signin.models import UserSession
from idp.signin.sessions import SessionService
from tests.logout_support import Receiver, deliveries, logout_client, sign_in_to
from tests.oidc_support import (
    PKCE_VERIFIER,
    SignIn,
    authorization_params,
    basic_auth,
    csrf_token,
    make_user,
)


@pytest.fixture
def receiver():
    listening = Receiver("ok")
    yield listening
    listening.stop()


@pytest.fixture
def rps(app, receiver):
    """Two clients with a back-channel logout URI and one without."""
    make_user(app)
    return (
        logout_client(app, "Portail A", backchannel=receiver.url + "?rp=a"),
        logout_client(app, "Portail B", backchannel=receiver.url + "?rp=b"),
        logout_client(app, "Portail C"),
    )


def session_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(UserSession.id).where(UserSession.ended_at.is_(None))))


def sids(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(UserSession.sid)))


def assert_one_delivery_per_connected_client(app, rps, receiver):
    found = deliveries(app)
    assert sorted(delivery.client_id for delivery in found) == sorted([rps[0].client_id, rps[1].client_id])
    assert {delivery.uri for delivery in found} == {receiver.url + "?rp=a", receiver.url + "?rp=b"}
    assert all(delivery.state == "queued" and delivery.attempts == 0 for delivery in found)
    assert {delivery.sid for delivery in found} <= sids(app)
    assert receiver.received == []  # only queued: the worker sends


def test_a_session_remembers_each_client_it_signed_into_once(app, client, rps):
    sign_in_to(client, *rps)
    sign_in_to(client, rps[0])  # again, same session
    with app.app_context():
        rows = db.session.execute(select(SessionClient.client_id, SessionClient.sid)).all()
    assert sorted(client_id for client_id, _ in rows) == sorted(rp.client_id for rp in rps)
    assert len({sid for _, sid in rows}) == 1


def test_sign_out_at_passerelle(app, client, rps, receiver):
    sign_in_to(client, *rps)
    page = client.get("/signout")
    response = client.post("/signout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert_one_delivery_per_connected_client(app, rps, receiver)


def test_rp_initiated_logout(app, client, rps, receiver):
    code = sign_in_to(client, *rps)[0]["code"]
    tokens = client.post("/token", headers=basic_auth(rps[0]), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": rps[0].redirect_uri,
        "code_verifier": PKCE_VERIFIER}).get_json()
    response = client.get("/logout", query_string={"id_token_hint": tokens["id_token"],
                                                   "post_logout_redirect_uri": "https://rp.example/signed-out"})
    assert response.status_code == 303
    assert_one_delivery_per_connected_client(app, rps, receiver)


def test_sign_out_everywhere_ends_every_session_of_the_person(app, client, rps, receiver):
    other_browser = app.test_client()
    sign_in_to(other_browser, rps[0])
    sign_in_to(client, *rps)
    page = client.get("/account/sign-out-everywhere")
    assert page.status_code == 200
    response = client.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 200
    assert session_ids(app) == []
    found = deliveries(app)
    # One per connected client of each session: A and B here, A in the other browser.
    assert sorted(delivery.client_id for delivery in found) == sorted([rps[0].client_id] * 2 + [rps[1].client_id])
    assert len({delivery.sid for delivery in found}) == 2
    assert receiver.received == []


def test_expiry_is_noticed_by_the_worker(app, client, rps, receiver, clock):
    sign_in_to(client, *rps)
    with app.app_context():
        service = get_logout_service()
        assert service.end_expired_sessions() == 0
        clock.advance(seconds=app_context().settings.SESSION_IDLE_TIMEOUT)
        assert service.end_expired_sessions() == 1
        db.session.commit()
        assert service.end_expired_sessions() == 0  # once
    assert session_ids(app) == []
    assert_one_delivery_per_connected_client(app, rps, receiver)


def test_absolute_expiry_is_noticed_too(app, client, rps, receiver, clock):
    sign_in_to(client, *rps)
    with app.app_context():
        settings = app_context().settings
        session = db.session.scalars(select(UserSession)).one()
        session.last_seen_at = clock() + timedelta(seconds=settings.SESSION_MAX_AGE)  # busy all along
        db.session.commit()
        clock.advance(seconds=settings.SESSION_MAX_AGE)
        assert get_logout_service().end_expired_sessions() == 1
        db.session.commit()
    assert_one_delivery_per_connected_client(app, rps, receiver)


@pytest.mark.parametrize("command", [["users", "sign-out"], ["users", "disable"]])
def test_an_operator_ending_the_persons_sessions(app, client, rps, receiver, command):
    sign_in_to(client, *rps)
    result = CliRunner().invoke(main, [*command, "--email", "zoe@example.ca"], obj=app, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert session_ids(app) == []
    assert_one_delivery_per_connected_client(app, rps, receiver)


def test_a_password_reset_ends_all_access(app, client, rps, receiver):
    sign_in_to(client, *rps)
    with app.app_context():
        ctx = app_context()
        user_id = db.session.scalars(select(UserSession.user_id)).one()
        assert end_all_access(SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher), user_id) == 1
        db.session.commit()
    assert_one_delivery_per_connected_client(app, rps, receiver)


def test_signing_out_of_other_devices_tells_their_clients_only(app, client, rps, receiver):
    other_browser = app.test_client()
    sign_in_to(other_browser, rps[0], rps[1])
    sign_in_to(client, rps[0])
    page = client.get("/account/sessions")
    client.post("/account/sessions/end-others", data={"csrf_token": csrf_token(page.text)})
    assert len(session_ids(app)) == 1
    assert sorted(delivery.client_id for delivery in deliveries(app)) == sorted([rps[0].client_id, rps[1].client_id])


def test_the_same_person_signing_in_again_keeps_the_clients_connected(app, client, rps, receiver):
    """prompt=login replaces the session: no logout token then, and the clients of the old
    one hear when the new one ends, with the sid their ID tokens carry."""
    sign_in_to(client, rps[0])
    first_sid = sids(app)
    SignIn(client).code_for(authorization_params(rps[1], prompt="login"))
    assert deliveries(app) == []
    assert len(session_ids(app)) == 1
    page = client.get("/signout")
    client.post("/signout", data={"csrf_token": csrf_token(page.text)})
    by_client = {delivery.client_id: delivery.sid for delivery in deliveries(app)}
    assert by_client[rps[0].client_id] in first_sid
    assert by_client[rps[1].client_id] not in first_sid


def test_another_person_signing_in_on_the_same_browser_ends_the_first_ones(app, client, rps, receiver):
    make_user(app, email="ana@example.ca")
    sign_in_to(client, rps[0])
    SignIn(client).code_for(authorization_params(rps[1], prompt="login"), email="ana@example.ca")
    assert [delivery.client_id for delivery in deliveries(app)] == [rps[0].client_id]


def test_the_worker_tells_the_relying_parties_of_an_expired_session(app, client, rps, receiver, clock):
    sign_in_to(client, *rps)
    clock.advance(seconds=1800)  # SESSION_IDLE_TIMEOUT
    Worker(app, jobs=("logout",)).run_once()
    assert session_ids(app) == []
    assert sorted(delivery.state for delivery in deliveries(app)) == ["delivered", "delivered"]
    assert len(receiver.received) == 2
