""""Recover account" replaces the methods the person lost (issue 9 item 15).

A recovery code at sign-in says the person lost their second factors: the authenticator
app, every security key and passkey, and codes sent by email stop working at once (whoever
holds the lost phone may read the mailbox on it too), every other session ends, and the
person is told, on the page before they confirm and by email afterwards. The recovery codes
they have left keep working until the new set-up replaces them.
"""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.mfa.models import TotpAuthenticator, WebAuthnCredential
from tests.integration.mfa.test_manage import add_key, manage_page, post
from tests.integration.mfa.test_security_key import ORIGIN, RP_ID
from tests.integration.mfa.test_two_factor import EMAIL, app_code, set_up_app, to_setup
from tests.integration.signin.support import SignIn, csrf_token, make_user
from tests.mail_support import text_body
from tests.webauthn_support import SoftwareAuthenticator

pytestmark = pytest.mark.settings(MFA_REQUIRED=True)


@pytest.fixture
def user_id(app):
    return make_user(app)


@pytest.fixture
def equipped(app, client, user_id, clock, mailbox):
    """Signed in on `client` with an app, a security key "Blue key" and emailed codes set
    up; returns the app's key and the recovery codes."""
    browser = to_setup(client)
    secret, codes, done = set_up_app(client, clock)
    assert browser.finish_steps(done, EMAIL).headers["Location"] == "/account"
    assert add_key(client, SoftwareAuthenticator(ORIGIN, RP_ID), "Blue key").status_code == 303
    assert post(client, "/account/two-factor/email", manage_page(client)).status_code == 303
    mailbox.wait_for(EMAIL, count=4)  # the code, "set up", and one "changed" per method added
    return secret, codes


def to_recover_page(app):
    """A new browser: the password, then "Recover account"."""
    other = app.test_client()
    browser = SignIn(other)
    assert browser.submit_password(page=browser.start()).headers["Location"] == "/signin/second-factor"
    other.get("/signin/second-factor")
    page = other.get("/signin/recover")
    assert page.status_code == 200
    return other, browser, page


def recover(other, page, code: str):
    return other.post("/signin/recover", data={"csrf_token": csrf_token(page.text), "code": code})


def test_the_recover_page_says_what_stops_working_before_the_person_confirms(app, equipped):
    _other, _browser, page = to_recover_page(app)
    text = page.text
    assert "These stop working for your account as soon as you enter a recovery code" in text
    for name in ("Authenticator app", "Every security key and passkey", "Code sent by email"):
        assert f"<li>{name}</li>" in text
    assert "Blue key" not in text  # nicknames wait until the person proved more than a password
    assert "You will be signed out everywhere else" in text
    assert "new recovery codes, which replace the ones you have left" in text


def test_recovering_removes_the_lost_methods_ends_other_sessions_and_says_so_by_email(
    app, client, user_id, equipped, clock, mailbox
):
    old_secret, codes = equipped
    assert client.get("/account").status_code == 200
    other, browser, page = to_recover_page(app)
    sent_before = len(mailbox.to(EMAIL))
    response = recover(other, page, codes[0])
    assert response.status_code == 303
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.email_code_enrolled_at is None and user.mfa_default_factor is None
        assert db.session.scalars(select(TotpAuthenticator)).all() == []
        assert db.session.scalars(select(WebAuthnCredential)).all() == []
        [event] = db.session.scalars(
            select(SecurityEvent).where(SecurityEvent.tag == EventTag.MFA_LOST_METHODS_REMOVED.value)
        ).all()
        assert sorted(event.details["removed"]) == ["email_code", "totp", "webauthn"]
    # The first browser's session ended: a session on the lost phone is signed out too.
    assert client.get("/account").status_code == 303
    recovered = mailbox.wait_for(EMAIL, count=sent_before + 1)
    assert recovered["Subject"] == "Your Passerelle account was recovered"
    assert recovered["Content-Language"] == "en"
    body = " ".join(text_body(recovered).split())
    assert "Security key “Blue key”" in body and "Authenticator app" in body and "Code sent by email" in body
    assert "signed out everywhere else" in body
    # One email for the recovery, not also "a recovery code was used".
    assert len(mailbox.to(EMAIL)) == sent_before + 1
    # The set-up follows; the emailed code is not offered (this sign-in did not prove the mailbox).
    assert other.get(response.headers["Location"]).headers.get("Location") in (None, "/signin/setup")
    clock.advance(seconds=31)
    new_secret, _new_codes, done = set_up_app(other, clock)
    assert browser.finish_steps(done, EMAIL).headers["Location"] == "/account"
    # The lost app's code is refused; the new one signs in.
    third = app.test_client()
    signin = SignIn(third)
    assert signin.submit_password(page=signin.start()).headers["Location"] == "/signin/second-factor"
    assert third.get("/signin/second-factor").headers["Location"] == "/signin/app"
    assert third.get("/signin/code").headers["Location"] == "/signin/second-factor"  # no emailed code
    clock.advance(seconds=31)
    page = third.get("/signin/app")
    refused = third.post("/signin/app", data={"csrf_token": csrf_token(page.text), "code": app_code(old_secret, clock)})
    assert refused.status_code == 422
    clock.advance(seconds=31)
    accepted = third.post("/signin/app", data={"csrf_token": csrf_token(page.text), "code": pyotp.TOTP(new_secret).at(clock())})
    assert accepted.status_code == 303


def test_stopping_before_the_new_set_up_leaves_the_recovery_codes_as_the_way_in(app, equipped, clock):
    _secret, codes = equipped
    other, _browser, page = to_recover_page(app)
    assert recover(other, page, codes[0]).status_code == 303
    # The person closes the browser before setting up a new method. Next time:
    again = app.test_client()
    signin = SignIn(again)
    assert signin.submit_password(page=signin.start()).headers["Location"] == "/signin/second-factor"
    assert again.get("/signin/second-factor").headers["Location"] == "/signin/recover"
    page = again.get("/signin/recover")
    clock.advance(seconds=60)
    assert recover(again, page, codes[1]).status_code == 303
    assert again.get("/signin/setup").status_code == 200


def test_a_recovery_code_on_the_reset_page_removes_nothing(app, user_id, equipped, mailbox):
    """The reset form's recovery code proves the person for the new password; it says
    nothing about lost methods (idp.mfa.reset_guard)."""
    from tests.integration.recovery.support import ask_for_help, open_reset_link, reset_path

    _secret, codes = equipped
    browser = app.test_client()
    sent_before = len(mailbox.to(EMAIL))
    assert ask_for_help(browser, EMAIL).status_code == 200
    page = open_reset_link(browser, reset_path(mailbox.wait_for(EMAIL, count=sent_before + 1)))
    response = browser.post("/signin/reset", data={
        "csrf_token": csrf_token(page.text), "password": "Tulipe-Orange-42-Ciel", "confirm_password": "Tulipe-Orange-42-Ciel",
        "second_factor": codes[0],
    })
    assert response.status_code == 303, response.text
    with app.app_context():
        assert db.session.scalars(select(TotpAuthenticator)).all() != []
        assert db.session.scalars(select(WebAuthnCredential)).all() != []
