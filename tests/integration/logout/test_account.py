""""Connected services" on the account page and « Se déconnecter partout » (issue 14): the
relying parties this session signed into, by name; signing out everywhere asks first (a
GET changes nothing), needs its CSRF token, ends every session of the person and every
grant, tells each relying party and leaves an audit event."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.logout.models import LogoutDelivery
from idp.signin.models import UserSession
from tests.logout_support import logout_client, sign_in_to
from tests.oidc_support import PKCE_VERIFIER, SignIn, basic_auth, csrf_token, make_user


@pytest.fixture
def rps(app):
    make_user(app)
    return (logout_client(app, "Portail des établissements", backchannel="https://eed.example/bcl"),
            logout_client(app, "Portail des documents", backchannel="https://docs.example/bcl"))


def live_sessions(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(UserSession.id).where(UserSession.ended_at.is_(None))).all())


@pytest.mark.parametrize("locale, heading, link", [
    ("fr", "Services connectés", "Se déconnecter partout"),
    ("en", "Connected services", "Sign out everywhere"),
])
def test_the_account_page_lists_the_services_this_session_signed_into(app, client, rps, locale, heading, link):
    sign_in_to(client, rps[0])
    client.get(f"/language/{locale}")
    page = client.get("/account").text
    assert f"<h2>{heading}</h2>" in page and link in page
    assert "Portail des établissements" in page and "Portail des documents" not in page


def test_a_session_that_signed_into_nothing_says_so(app, client, rps):
    sign_in_to(client, rps[0])
    other = app.test_client()
    response = other.get("/account")
    SignIn(other).follow(response)
    other.get("/language/en")
    assert "you have not signed in to any service" in other.get("/account").text


def test_sign_out_everywhere_asks_first_then_ends_everything_and_tells_each_service(app, client, rps):
    other_browser = app.test_client()
    sign_in_to(other_browser, rps[1])
    code = sign_in_to(client, *rps)[0]["code"]
    tokens = client.post("/token", headers=basic_auth(rps[0]), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": rps[0].redirect_uri,
        "code_verifier": PKCE_VERIFIER, "scope": "openid offline_access"}).get_json()
    page = client.get("/account/sign-out-everywhere")
    assert page.status_code == 200 and live_sessions(app) == 2  # asking changes nothing
    assert client.post("/account/sign-out-everywhere", data={}).status_code == 400  # no CSRF token
    assert live_sessions(app) == 2
    done = client.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 200
    assert "Votre compte est maintenant déconnecté sur tous les appareils" in done.text
    assert live_sessions(app) == 0
    assert client.get("/account").status_code in (302, 303)
    refresh = client.post("/token", headers=basic_auth(rps[0]), data={
        "grant_type": "refresh_token", "refresh_token": tokens.get("refresh_token", "none")})
    assert refresh.status_code == 400
    with app.app_context():
        assert len(db.session.scalars(select(LogoutDelivery)).all()) == 3  # A and B here, B there
        [event] = db.session.scalars(select(SecurityEvent).where(
            SecurityEvent.tag == EventTag.SIGNED_OUT_EVERYWHERE)).all()
        assert event.details["count"] == 2


def test_without_a_session_it_starts_a_sign_in(client):
    response = client.get("/account/sign-out-everywhere")
    assert response.status_code in (302, 303) and "/signin" in response.headers["Location"]
