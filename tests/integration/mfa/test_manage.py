"""Managing two-factor from the account page (seed 002): a fresh two-factor sign-in first,
then add a method, change the default, remove one (never the last), new recovery codes;
each change is a security event and an email."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.mfa.models import RecoveryCode, TotpAuthenticator
from tests.integration.mfa.test_two_factor import EMAIL, codes_on, secret_on, set_up_app, to_setup
from tests.integration.signin.support import SignIn, csrf_token, make_user
from tests.mail_support import text_body

pytestmark = pytest.mark.settings(MFA_REQUIRED=True)


@pytest.fixture
def user_id(app):
    return make_user(app)


@pytest.fixture
def signed_in(client, user_id, clock, mailbox):
    """Signed in a moment ago with the authenticator app just set up; returns its key."""
    browser = to_setup(client)
    secret, _codes, done = set_up_app(client, clock)
    response = browser.finish_steps(done, EMAIL)
    assert response.headers["Location"] == "/account"
    return secret


def manage_page(client):
    page = client.get("/account/two-factor")
    assert page.status_code == 200, page.headers.get("Location")
    return page


def post(client, path, page, **data):
    return client.post(path, data={"csrf_token": csrf_token(page.text), **data})


def events(app, user_id) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(SecurityEvent.tag).where(SecurityEvent.user_id == user_id)))


def test_the_account_page_links_to_manage_and_a_fresh_sign_in_shows_the_choices(client, signed_in):
    assert 'href="/account/two-factor"' in client.get("/account").text
    page = manage_page(client)
    assert "Authentication successful" in page.text
    assert "Authenticator app" in page.text and "(default)" in page.text
    assert "Generate new recovery codes" in page.text
    # The only method cannot be removed: no button for it.
    assert 'action="/account/two-factor/remove"' not in page.text


def test_after_five_minutes_managing_asks_to_sign_in_again(client, signed_in, clock):
    clock.advance(seconds=301)
    response = client.get("/account/two-factor")
    assert response.status_code == 303
    browser = SignIn(client)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and EMAIL in page.text  # the address is filled in
    response = browser.submit_password(page=page)
    assert client.get(response.headers["Location"]).headers["Location"] == "/signin/app"
    app_page = client.get("/signin/app")
    response = client.post("/signin/app", data={"csrf_token": csrf_token(app_page.text), "code": pyotp.TOTP(signed_in).at(clock())})
    response = browser.finish_steps(response, EMAIL)
    assert response.headers["Location"] == "/account/two-factor"
    assert "Authentication successful" in manage_page(client).text


def test_add_email_then_make_it_the_default_then_remove_the_app(app, client, user_id, signed_in, clock, mailbox):
    page = manage_page(client)
    assert post(client, "/account/two-factor/email", page).status_code == 303
    page = manage_page(client)
    assert "Code sent by email" in page.text
    post(client, "/account/two-factor/default", page, method="email_code")
    post(client, "/account/two-factor/remove", manage_page(client), method="totp")
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.mfa_default_factor == "email_code" and user.email_code_enrolled_at is not None
        assert db.session.scalar(select(TotpAuthenticator).where(TotpAuthenticator.user_id == user_id)) is None
    # Now the emailed code is the only method: it cannot be removed.
    response = post(client, "/account/two-factor/remove", manage_page(client), method="email_code")
    assert "You cannot remove your only method" in client.get(response.headers["Location"]).text
    tags = events(app, user_id)
    assert tags.count(EventTag.MFA_METHOD_ADDED.value) == 1
    assert EventTag.MFA_DEFAULT_CHANGED.value in tags and EventTag.MFA_METHOD_REMOVED.value in tags
    subjects = [message["Subject"] for message in mailbox.to(EMAIL)]
    assert subjects.count("Your Passerelle two-factor authentication was changed") == 3
    assert "the authenticator app was removed" in text_body(mailbox.last_to(EMAIL))


def test_new_recovery_codes_replace_the_old_ones(app, client, user_id, signed_in):
    page = post(client, "/account/two-factor/recovery-codes", manage_page(client))
    assert page.status_code == 200 and "Save your recovery codes" in page.text
    codes = codes_on(page.text)
    assert len(codes) == 10 and 'href="/account/two-factor"' in page.text
    with app.app_context():
        unused = db.session.scalars(
            select(RecoveryCode).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        ).all()
    assert len(unused) == 10
    assert EventTag.RECOVERY_CODES_REGENERATED.value in events(app, user_id)


def test_adding_a_second_app_is_refused_while_one_is_set_up(client, signed_in):
    response = client.get("/account/two-factor/app")
    assert response.status_code == 303 and response.headers["Location"] == "/account/two-factor"


def test_changes_need_the_csrf_token_and_a_known_method(app, client, user_id, signed_in):
    assert client.post("/account/two-factor/remove", data={"method": "totp"}).status_code in (400, 303)
    with app.app_context():
        assert db.session.scalar(select(TotpAuthenticator).where(TotpAuthenticator.user_id == user_id)) is not None
    response = post(client, "/account/two-factor/default", manage_page(client), method="carrier-pigeon")
    assert "not set up on your account" in client.get(response.headers["Location"]).text


@pytest.mark.settings(MFA_REQUIRED=False)
def test_without_mandatory_two_factor_a_person_sets_it_up_from_the_account_page(app, client, user_id, clock, mailbox):
    SignIn(client).sign_in(EMAIL)
    page = manage_page(client)  # the emailed code a moment ago counts as a fresh second factor
    assert "not set up yet" in page.text
    app_page = client.get("/account/two-factor/app")
    secret = secret_on(app_page.text)
    codes_page = client.post("/account/two-factor/app", data={"csrf_token": csrf_token(app_page.text),
                                                               "code": pyotp.TOTP(secret).at(clock())})
    assert len(codes_on(codes_page.text)) == 10
    with app.app_context():
        assert db.session.get(User, user_id).mfa_enrolled_at is not None


def test_add_a_security_key_from_the_account_page(app, client, user_id, signed_in, clock, mailbox):
    import json

    from idp.mfa.models import WebAuthnCredential
    from tests.integration.mfa.test_security_key import ORIGIN, RP_ID, options
    from tests.webauthn_support import SoftwareAuthenticator, unb64url

    key = SoftwareAuthenticator(ORIGIN, RP_ID)
    page = manage_page(client)
    assert 'href="/account/two-factor/security-key"' in page.text
    key_page = client.get("/account/two-factor/security-key")
    assert key_page.status_code == 200 and 'data-options-url="/account/two-factor/security-key/options"' in key_page.text
    public_key = options(client, "/account/two-factor/security-key/options", key_page.text)
    response = client.post("/account/two-factor/security-key", data={
        "csrf_token": csrf_token(key_page.text), "credential": json.dumps(key.create(unb64url(public_key["challenge"]))),
        "nickname": "Office key",
    })
    assert response.status_code == 303 and response.headers["Location"] == "/account/two-factor"
    page = manage_page(client)
    assert "Your security key is set up." in page.text and "Security key or passkey" in page.text
    with app.app_context():
        stored = db.session.scalar(select(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id))
        assert stored.nickname == "Office key"
    assert EventTag.MFA_METHOD_ADDED.value in events(app, user_id)
    assert "a security key or passkey was added" in text_body(mailbox.last_to(EMAIL))
    # The same key twice is refused with a message.
    key_page = client.get("/account/two-factor/security-key")
    public_key = options(client, "/account/two-factor/security-key/options", key_page.text)
    again = client.post("/account/two-factor/security-key", data={
        "csrf_token": csrf_token(key_page.text), "credential": json.dumps(key.create(unb64url(public_key["challenge"]))),
    })
    assert again.status_code == 422 and "already set up" in again.text


def test_the_key_options_need_a_fresh_sign_in(client, signed_in, clock):
    page = manage_page(client)
    clock.advance(seconds=301)
    response = client.post("/account/two-factor/security-key/options", headers={"X-CSRFToken": csrf_token(page.text)})
    assert response.status_code == 401 and "error" in response.get_json()


def add_key(client, key, nickname: str):
    import json

    from tests.integration.mfa.test_security_key import options
    from tests.webauthn_support import unb64url

    key_page = client.get("/account/two-factor/security-key")
    public_key = options(client, "/account/two-factor/security-key/options", key_page.text)
    return client.post("/account/two-factor/security-key", data={
        "csrf_token": csrf_token(key_page.text), "credential": json.dumps(key.create(unb64url(public_key["challenge"]))),
        "nickname": nickname,
    })


def methods_row(page_text: str) -> str:
    """The account home's "Methods" row, tags and spaces squeezed."""
    match = re.search(r"<dt>Methods</dt>\s*<dd>(.*?)</dd>", page_text, re.S)
    assert match, "the account home lists the methods"
    return re.sub(r"\s+", " ", match.group(1))


def test_each_key_is_shown_by_its_nickname_and_kind_and_removed_on_its_own(app, client, user_id, signed_in, mailbox):
    """Issue 9 item 17: keys are told apart on the account home and the manage page."""
    from idp.mfa.models import WebAuthnCredential
    from tests.integration.mfa.test_security_key import ORIGIN, RP_ID
    from tests.webauthn_support import SoftwareAuthenticator

    client.set_cookie("passerelle_lang", "en")
    assert add_key(client, SoftwareAuthenticator(ORIGIN, RP_ID), "Blue key").status_code == 303
    assert add_key(client, SoftwareAuthenticator(ORIGIN, RP_ID, synced=True), "Work laptop").status_code == 303
    home = methods_row(client.get("/account").text)
    assert "Security key “Blue key”" in home and "Passkey “Work laptop”" in home
    assert "Authenticator app" in home and home.count("<li") == 3
    assert not re.search(r",\s*(<|$)", home) and "> (default)" not in home
    page = manage_page(client)
    assert "Security key “Blue key”" in page.text and "Passkey “Work laptop”" in page.text
    with app.app_context():
        blue = db.session.scalar(select(WebAuthnCredential).where(WebAuthnCredential.nickname == "Blue key"))
    removed = post(client, "/account/two-factor/remove-key", page, key=str(blue.id))
    assert removed.status_code == 303
    page = manage_page(client)
    assert "Blue key" not in page.text and "Passkey “Work laptop”" in page.text
    with app.app_context():
        assert [key.nickname for key in db.session.scalars(select(WebAuthnCredential))] == ["Work laptop"]
    assert EventTag.MFA_METHOD_REMOVED.value in events(app, user_id)
    # The code, "set up", two "added", then this one, which names the key.
    mailbox.wait_for(EMAIL, count=5)
    bodies = [" ".join(text_body(message).split()) for message in mailbox.to(EMAIL)]
    assert any("the security key “Blue key” was removed from the two-factor methods" in body for body in bodies)


def test_a_key_without_a_nickname_gets_a_name_by_its_number(app, client, user_id, signed_in):
    from idp.mfa.models import WebAuthnCredential
    from tests.integration.mfa.test_security_key import ORIGIN, RP_ID
    from tests.webauthn_support import SoftwareAuthenticator

    client.set_cookie("passerelle_lang", "en")
    assert add_key(client, SoftwareAuthenticator(ORIGIN, RP_ID), "").status_code == 303
    with app.app_context():  # a key stored before nicknames were required, or with a blank one
        db.session.execute(db.update(WebAuthnCredential).values(nickname="?"))
        db.session.commit()
    home = methods_row(client.get("/account").text)
    assert "Security key 1" in home and "?" not in home


def test_someone_elses_key_or_a_bad_id_is_refused_without_a_500(app, client, user_id, signed_in):
    page = manage_page(client)
    for bad in ("999999", "x", ""):
        response = post(client, "/account/two-factor/remove-key", page, key=bad)
        assert response.status_code == 303
        assert "This method is not set up on your account." in client.get("/account/two-factor").text
