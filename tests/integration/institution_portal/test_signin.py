"""The institution portal signs people in through a live Passerelle over HTTP (Authlib's
client, code + PKCE, acr_values of two-factor, the organization scope): a member of a DLI
with two-factor lands on the portal's terms, then home; everyone else gets a clear page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from clients.institution_portal.db import db as portal_db
from clients.institution_portal.models import PortalSession, SigninState
from tests.institution_portal_support import (
    PORTAL_ORIGIN,
    add_authenticator_app,
    build_portal,
    follow_passerelle,
    local,
    register_portal,
    without_acr_values,
)
from tests.oidc_support import make_user
from tests.orgs_access_support import PRIMARY_EMAIL, SECONDARY_EMAIL, dli_with_members

ACR_MFA = "urn:passerelle:acr:mfa"


@pytest.fixture
def registration(live_server):
    return register_portal(live_server.app)


@pytest.fixture
def portal(live_server, registration, tmp_path):
    return build_portal(live_server.url, registration, tmp_path / "portal.db", WTF_CSRF_ENABLED=False, TESTING=True)


def sign_in(portal_browser, live_server, email, clock, app_secret=None, via="passerelle", tamper=None):
    start = portal_browser.post("/login", data={"via": via})
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    url = start.headers["Location"]
    if tamper:
        url = tamper(url)
    back = follow_passerelle(requests.Session(), url, email, clock, app_secret)
    return portal_browser.get(local(back))


def test_the_authorization_request_asks_for_two_factor_and_the_organization(portal, live_server, registration):
    start = portal.test_client().post("/login", data={"via": "partner"}, headers={"Accept-Language": "en"})
    location = urlsplit(start.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == live_server.url + "/authorize"
    params = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert params["scope"].split() == ["openid", "profile", "email", "organization"]
    assert params["acr_values"] == ACR_MFA and params["login_hint"] == "partner" and params["ui_locales"] == "en"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["state"] and params["nonce"] and params["client_id"] == registration.client_id
    assert params["redirect_uri"] == PORTAL_ORIGIN + "/callback"
    # The verifier and nonce stay on the server; the cookie holds only a marker.
    with portal.app_context():
        assert portal_db.session.query(SigninState).count() == 1


def test_the_passerelle_choice_sends_no_login_hint(portal):
    start = portal.test_client().post("/login", data={"via": "passerelle"})
    assert "login_hint" not in parse_qs(urlsplit(start.headers["Location"]).query)


def test_a_dli_member_with_two_factor_accepts_the_terms_then_sees_home_then_signs_out(portal, live_server, clock):
    dli = dli_with_members(live_server.app)
    secret = add_authenticator_app(live_server.app, dli.members[SECONDARY_EMAIL], clock)
    browser = portal.test_client()
    done = sign_in(browser, live_server, SECONDARY_EMAIL, clock, secret)
    assert done.status_code == 302 and done.headers["Location"] == "/terms", done.get_data(as_text=True)[:500]
    assert browser.get("/").headers["Location"] == "/terms"  # no home before the terms
    with portal.app_context():  # the sign-in's state is spent
        assert portal_db.session.query(SigninState).count() == 0
    terms = browser.get("/terms", headers={"Accept-Language": "en"})
    assert terms.status_code == 200 and "Version 2026-12" in terms.get_data(as_text=True)
    accepted = browser.post("/terms", data={"decision": "accept"})
    assert accepted.headers["Location"] == "/"
    home = browser.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Imaginary College" in home and "O123456789012" in home and "Secondary user" in home
    assert "No reporting period is open." in home
    french = browser.get("/lang/fr?next=/", follow_redirects=True).get_data(as_text=True)
    assert "Collège Imaginaire" in french and "Utilisateur secondaire" in french

    # Sign-out goes through Passerelle's end_session_endpoint with the ID token as hint.
    logout = browser.post("/logout")
    location = logout.headers["Location"]
    assert location.startswith(live_server.url + "/logout")
    params = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    assert params["post_logout_redirect_uri"] == PORTAL_ORIGIN + "/signed-out" and params["id_token_hint"]
    back = requests.get(location, allow_redirects=False, timeout=30).headers["Location"]
    assert back.startswith(PORTAL_ORIGIN + "/signed-out?state=")
    signed_out = browser.get(local(back))
    assert signed_out.status_code == 200 and 'id="signed-out"' in signed_out.get_data(as_text=True)
    assert browser.get("/").headers["Location"] == "/login"
    with portal.app_context():
        assert portal_db.session.query(PortalSession).count() == 0


def test_terms_are_asked_once_per_version_and_declining_signs_out(portal, live_server, registration, tmp_path, clock):
    dli = dli_with_members(live_server.app)
    secret = add_authenticator_app(live_server.app, dli.members[PRIMARY_EMAIL], clock)
    browser = portal.test_client()
    assert sign_in(browser, live_server, PRIMARY_EMAIL, clock, secret).headers["Location"] == "/terms"
    browser.post("/terms", data={"decision": "accept"})
    clock.advance(seconds=30)
    again = sign_in(browser, live_server, PRIMARY_EMAIL, clock, secret)
    assert again.headers["Location"] == "/", "the same version is not asked twice"
    assert "Primary user" in browser.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)

    newer = build_portal(live_server.url, registration, tmp_path / "portal.db", PORTAL_TERMS_VERSION="2027-04",
                         WTF_CSRF_ENABLED=False, TESTING=True)
    browser = newer.test_client()
    clock.advance(seconds=30)
    assert sign_in(browser, live_server, PRIMARY_EMAIL, clock, secret).headers["Location"] == "/terms"
    declined = browser.post("/terms", data={"decision": "decline"})
    assert declined.headers["Location"].startswith(live_server.url + "/logout")
    back = requests.get(declined.headers["Location"], allow_redirects=False, timeout=30).headers["Location"]
    page = browser.get(local(back), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "You declined the portal's terms of use" in page
    assert browser.get("/").headers["Location"] == "/login"


def test_a_person_without_membership_is_told_to_ask_for_an_invitation(portal, live_server, clock):
    user_id = make_user(live_server.app)
    secret = add_authenticator_app(live_server.app, user_id, clock)
    browser = portal.test_client()
    page = sign_in(browser, live_server, "zoe@example.ca", clock, secret)
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "l'utilisateur principal de votre établissement de vous envoyer une invitation" in html
    assert f'href="{live_server.url}/logout"' in html  # to try another account
    assert browser.get("/").headers["Location"] == "/login"


def test_a_sign_in_below_two_factor_is_refused_with_how_to_set_it_up(portal, live_server, clock, mailbox):
    """The browser strips acr_values from the request: Passerelle then settles for the
    password and emailed code, and the portal refuses the ID token's acr."""
    dli_with_members(live_server.app)
    browser = portal.test_client()
    page = sign_in(browser, live_server, PRIMARY_EMAIL, clock, tamper=without_acr_values)
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert 'id="refusal"' in html and live_server.url + "/account" in html
    assert browser.get("/").headers["Location"] == "/login"


def test_a_callback_with_a_forged_state_is_a_clear_page(portal, live_server):
    browser = portal.test_client()
    browser.post("/login", data={"via": "passerelle"})
    page = browser.get(f"/callback?code=abc&state=forged&iss={live_server.url}", headers={"Accept-Language": "en"})
    assert page.status_code == 400
    assert "does not match a sign-in started in this browser" in page.get_data(as_text=True)


@pytest.mark.parametrize("error", ["access_denied", "unmet_authentication_requirements", "server_error"])
def test_an_error_from_passerelle_is_a_clear_page(portal, live_server, error):
    page = portal.test_client().get(f"/callback?error={error}&state=x&iss={live_server.url}")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'id="refusal"' in html and error in html


def test_a_response_from_another_issuer_is_refused(portal):
    page = portal.test_client().get("/callback?code=abc&state=x&iss=https://evil.example")
    assert page.status_code == 400 and 'id="refusal"' in page.get_data(as_text=True)


def test_a_callback_replayed_after_a_sign_in_is_a_clear_page(portal, live_server, clock):
    dli = dli_with_members(live_server.app)
    secret = add_authenticator_app(live_server.app, dli.members[PRIMARY_EMAIL], clock)
    browser = portal.test_client()
    start = browser.post("/login", data={"via": "passerelle"})
    back = follow_passerelle(requests.Session(), start.headers["Location"], PRIMARY_EMAIL, clock, secret)
    assert browser.get(local(back)).headers["Location"] == "/terms"
    replay = browser.get(local(back))
    assert replay.status_code == 400 and 'id="refusal"' in replay.get_data(as_text=True)


def test_passerelle_out_of_reach_is_a_clear_page(live_server, registration, tmp_path):
    from tests.support import free_port

    portal = build_portal(f"http://127.0.0.1:{free_port()}", registration, tmp_path / "down.db",
                          WTF_CSRF_ENABLED=False)
    browser = portal.test_client()
    for response in (browser.post("/login", data={"via": "passerelle"}),
                     browser.get("/callback?code=abc&state=x")):
        assert response.status_code == 503 and 'id="refusal"' in response.get_data(as_text=True)
