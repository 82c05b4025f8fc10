"""The consent step and the contract the OIDC endpoints call (idp.signin.current)."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

from idp.extensions import db
from idp.oidc.models import Consent
from idp.signin import current
from tests.integration.signin.support import SignIn, begin, csrf_token, in_browser_request, make_client, make_user

AUTHORIZATION_REQUEST = {
    "response_type": "code",
    "client_id": "portal",
    "redirect_uri": "https://rp.example/callback",
    "scope": "openid email phone",
    "state": "xyz",
}


@pytest.fixture
def user_id(app):
    return make_user(app)


@pytest.fixture
def browser(client):
    return SignIn(client)


def resume_url(app) -> str:
    with app.test_request_context():
        return url_for("oidc.resume")


def begin_authorization(app, client, **options):
    options.setdefault("needs_consent", True)
    return begin(app, client, authorization_request=AUTHORIZATION_REQUEST, client_id="portal", **options)


def sign_in_to_consent(app, client, browser):
    make_client(app, name="<img src=x onerror=alert(1)> Portail", require_consent=True)
    response = begin_authorization(app, client)
    assert response.headers["Location"] == "/signin"
    page = client.get("/signin")
    assert "Sign in to continue to &lt;img src=x onerror=alert(1)&gt; Portail." in page.text
    response = browser.submit(page=page)
    assert response.headers["Location"] == "/signin/consent"
    return client.get("/signin/consent")


def test_the_consent_page_names_the_client_safely_and_lists_each_scope(app, client, browser, user_id):
    page = sign_in_to_consent(app, client, browser)
    assert page.status_code == 200
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt; Portail" in page.text
    assert "Your email address." in page.text and "Your phone number." in page.text
    assert 'name="decision" value="allow"' in page.text and 'name="decision" value="deny"' in page.text
    assert 'method="post"' in page.text


def test_allowing_remembers_consent_and_resumes_the_authorization(app, client, browser, user_id):
    page = sign_in_to_consent(app, client, browser)
    response = client.post("/signin/consent", data={"csrf_token": csrf_token(page.text), "decision": "allow"})
    assert response.status_code == 303
    assert response.headers["Location"] == resume_url(app)
    assert browser.session_handle  # the session starts when the flow is done
    with in_browser_request(app, client):
        txn = current.finished_transaction()
        assert txn is not None and not current.is_denied(txn)
        assert txn.authorization_request == AUTHORIZATION_REQUEST
        assert current.current_session().user_id == user_id == txn.user_id
        assert current.consume_transaction(txn) is True
        assert current.consume_transaction(txn) is False
        db.session.commit()
        assert current.finished_transaction() is None
        consent = db.session.scalar(select(Consent).where(Consent.user_id == user_id))
        assert consent.client_id == "portal" and consent.scope == "openid email phone"


def test_denying_resumes_with_the_refusal_and_remembers_nothing(app, client, browser, user_id):
    page = sign_in_to_consent(app, client, browser)
    response = client.post("/signin/consent", data={"csrf_token": csrf_token(page.text), "decision": "deny"})
    assert response.headers["Location"] == resume_url(app)
    with in_browser_request(app, client):
        txn = current.finished_transaction()
        assert txn is not None and current.is_denied(txn)
        assert db.session.scalar(select(Consent)) is None


def test_consent_without_a_csrf_token_changes_nothing(app, client, browser, user_id):
    sign_in_to_consent(app, client, browser)
    response = client.post("/signin/consent", data={"decision": "allow"})
    assert response.status_code in (400, 403)
    with app.app_context():
        assert db.session.scalar(select(Consent)) is None


def test_a_consent_post_before_the_password_step_goes_back_to_the_password(app, client, browser, user_id):
    make_client(app, require_consent=True)
    begin_authorization(app, client)
    page = client.get("/signin")
    response = client.post("/signin/consent", data={"csrf_token": csrf_token(page.text), "decision": "allow"})
    assert response.headers["Location"] == "/signin"
    with app.app_context():
        assert db.session.scalar(select(Consent)) is None


def test_a_consent_post_without_any_sign_in_shows_the_start_again_page(client, browser):
    page = client.get(client.get("/signin").headers["Location"])
    client.delete_cookie("passerelle_signin")
    response = client.post("/signin/consent", data={"csrf_token": csrf_token(page.text), "decision": "allow"})
    assert response.status_code == 400
    assert 'href="/account"' in response.text


def test_an_existing_session_goes_straight_to_consent_and_keeps_its_cookie(app, client, browser, user_id):
    make_client(app, require_consent=True)
    browser.sign_in()
    handle = browser.session_handle
    with in_browser_request(app, client):
        session = current.current_session()
    response = begin_authorization(app, client, session=session)
    assert response.headers["Location"] == "/signin/consent"
    page = client.get("/signin/consent")
    response = client.post("/signin/consent", data={"csrf_token": csrf_token(page.text), "decision": "allow"})
    assert response.headers["Location"] == resume_url(app)
    assert browser.session_handle == handle


def test_without_consent_needed_an_existing_session_finishes_at_once(app, client, browser, user_id):
    make_client(app)
    browser.sign_in()
    with in_browser_request(app, client):
        session = current.current_session()
    response = begin_authorization(app, client, session=session, needs_consent=False)
    assert response.headers["Location"] == resume_url(app)
    with in_browser_request(app, client):
        assert current.finished_transaction() is not None


def test_a_session_that_ended_meanwhile_no_longer_vouches(app, client, browser, user_id):
    make_client(app, require_consent=True)
    browser.sign_in()
    with in_browser_request(app, client):
        session = current.current_session()
    begin_authorization(app, client, session=session)
    with app.app_context():  # e.g. the operator ends every session of this person
        current.get_session_service().end_all_for_user(user_id)
        db.session.commit()
    page = client.get("/signin/consent")
    response = client.post("/signin/consent", data={"csrf_token": csrf_token(page.text), "decision": "allow"})
    assert response.headers["Location"] == "/signin"


def test_step_pages_of_an_authorization_set_no_form_action_and_local_ones_keep_self(app, client, browser, user_id):
    """Chromium checks form-action on every redirect after a POST, and those of a step that
    ends an authorization go to the client and wherever it sends the browser (issue 9 #13)."""
    page = sign_in_to_consent(app, client, browser)
    policy = page.headers["Content-Security-Policy"]
    assert "form-action" not in policy
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    begin(app, client)  # a local sign-in: nothing outside the IdP
    local_page = client.get("/signin")
    assert "form-action 'self';" in local_page.headers["Content-Security-Policy"]
