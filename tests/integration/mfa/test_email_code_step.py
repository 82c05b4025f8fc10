"""The emailed code step through the test client, with mail read from the real SMTP server on
loopback: seed 001 ("enter the code within 3 minutes", "Validate the code", "Request a new
code"), expiry with the injected clock, attempts, resend cooldown, daily cap, and no 500."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.signin.models import UserSession
from tests.integration.signin.support import PASSWORD, SignIn, cookie_value, csrf_token, make_user
from tests.mail_support import code_in, text_body
from tests.signin_support import latest_signin_code, signin_code_messages

EMAIL = "ana@example.ca"


@pytest.fixture
def user_id(app):
    return make_user(app)


def to_code_page(client, locale: str = "en"):
    """Sign in with the password and land on the code page; returns that page."""
    browser = SignIn(client, locale=locale)
    response = browser.submit_password(page=browser.start())
    assert response.headers["Location"] == "/signin/second-factor"
    response = client.get("/signin/second-factor")
    assert response.status_code == 303 and response.headers["Location"] == "/signin/code"
    page = client.get("/signin/code")
    assert page.status_code == 200
    return page


def post_code(client, page, code: str):
    return client.post("/signin/code", data={"csrf_token": csrf_token(page.text), "code": code})


def resend(client, page):
    return client.post("/signin/code/resend", data={"csrf_token": csrf_token(page.text)})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def wait_out_the_delay(app, clock, user_id) -> None:
    """Move the clock past the account's progressive delay (idp.accounts.throttle), no further."""
    from idp.accounts.models import User
    from idp.accounts.throttle import ThrottlePolicy

    with app.app_context():
        failures = db.session.get(User, user_id).failed_signin_count
    clock.advance(ThrottlePolicy.from_settings(app.config).delay_for(failures).total_seconds())


def test_the_code_page_says_where_the_code_went_and_how_long_it_works(client, user_id, mailbox):
    page = to_code_page(client)
    assert "<title>Enter the code sent to your email – Passerelle</title>" in page.text
    assert "a***@example.ca" in page.text and EMAIL not in page.text
    assert "within 3 minutes" in page.text
    assert 'autocomplete="one-time-code"' in page.text and 'inputmode="numeric"' in page.text
    assert "Validate the code" in page.text
    # "Request a new code" is a form of its own, posted separately.
    assert 'action="/signin/code/resend"' in page.text and "Request a new code" in page.text
    assert page.headers["Cache-Control"].startswith("no-store") or "no-store" in page.headers["Cache-Control"]


def test_the_email_holds_the_code_its_lifetime_and_what_to_do_if_it_was_not_you(client, user_id, mailbox):
    to_code_page(client)
    [message] = mailbox.to(EMAIL)
    assert message["Subject"] == "Your Passerelle sign-in code"
    body = text_body(message)
    assert code_in(message) in body
    assert "3 minutes" in body
    assert "someone knows your password" in body and "http://127.0.0.1:5000/signin/help" in body


def test_the_email_speaks_the_language_of_the_sign_in(client, user_id, mailbox):
    to_code_page(client, locale="fr")
    [message] = mailbox.to(EMAIL)
    assert message["Content-Language"] == "fr"
    assert message["Subject"] == "Votre code d'ouverture de session Passerelle"
    assert "3 minutes" in text_body(message)


def test_the_right_code_signs_in_with_honest_amr_and_acr(app, client, user_id, mailbox):
    page = to_code_page(client)
    response = post_code(client, page, latest_signin_code(EMAIL))
    assert response.status_code == 303 and response.headers["Location"] == "/signin/terms"
    response = SignIn(client).finish_steps(response, EMAIL)
    assert response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    with app.app_context():
        user_session = db.session.scalar(select(UserSession))
        assert user_session.amr == ["pwd", "email"]
        assert user_session.acr == "urn:passerelle:acr:pwd-email"
        success = db.session.scalar(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.SIGNIN_SUCCESS)))
        assert success.user_id == user_id and success.ip_address == "127.0.0.1"
        assert success.details["amr"] == ["pwd", "email"]


def test_reloading_the_page_sends_no_second_code(client, user_id, mailbox):
    to_code_page(client)
    client.get("/signin/code")
    client.get("/signin/code")
    assert len(signin_code_messages(EMAIL)) == 1


def test_no_session_starts_before_the_code(client, user_id, mailbox):
    """MFA-08: the password alone reaches neither the account nor consent."""
    page = to_code_page(client)
    assert cookie_value(client, "passerelle_session") is None
    consent = client.post("/signin/consent", data={"csrf_token": csrf_token(page.text), "decision": "allow"})
    assert consent.status_code == 303 and consent.headers["Location"] == "/signin/second-factor"
    terms = client.post("/signin/terms", data={"csrf_token": csrf_token(page.text), "decision": "accept"})
    assert terms.status_code == 303 and terms.headers["Location"] == "/signin/second-factor"
    assert cookie_value(client, "passerelle_session") is None
    assert client.get("/account").status_code == 303  # (this starts a new sign-in)


def test_the_code_page_before_the_password_sends_back_to_the_password(client, user_id, mailbox):
    SignIn(client).start()
    response = client.get("/signin/code")
    assert response.status_code == 303 and response.headers["Location"] == "/signin"
    assert mailbox.to(EMAIL) == []


def test_the_code_page_without_a_sign_in_says_it_expired(client):
    assert client.get("/signin/code").status_code == 400
    assert client.get("/signin/second-factor").status_code == 400


def test_a_wrong_code_gets_a_message_and_the_right_one_still_works(client, user_id, mailbox):
    page = to_code_page(client)
    code = latest_signin_code(EMAIL)
    response = post_code(client, page, wrong(code))
    assert response.status_code == 422
    assert "The code is incorrect." in response.text
    assert 'href="#code"' in response.text  # in the error summary, linked to the field
    assert post_code(client, page, code).status_code == 303


def test_five_wrong_codes_burn_it_and_a_new_code_works(app, client, clock, user_id, mailbox):
    page = to_code_page(client)
    code = latest_signin_code(EMAIL)
    for _ in range(4):
        response = post_code(client, page, wrong(code))
        assert "The code is incorrect." in response.text
        wait_out_the_delay(app, clock, user_id)
    response = post_code(client, page, wrong(code))
    assert response.status_code == 422 and "Too many incorrect codes" in response.text
    wait_out_the_delay(app, clock, user_id)
    assert "This code no longer works" in post_code(client, page, code).text
    clock.advance(30)
    response = resend(client, page)
    assert response.status_code == 303 and response.headers["Location"] == "/signin/code?sent=1"
    page = client.get(response.headers["Location"])
    assert "We sent a new code to a***@example.ca." in page.text
    new_code = latest_signin_code(EMAIL)
    assert len(signin_code_messages(EMAIL)) == 2
    assert post_code(client, page, new_code).status_code == 303


def test_an_expired_code_says_so_and_a_new_one_works(client, clock, user_id, mailbox):
    page = to_code_page(client)
    code = latest_signin_code(EMAIL)
    clock.advance(181)
    response = post_code(client, page, code)
    assert response.status_code == 422 and "This code has expired. Request a new code." in response.text
    resend(client, page)
    assert post_code(client, page, latest_signin_code(EMAIL)).status_code == 303


def test_a_code_entered_at_179_seconds_still_works(client, clock, user_id, mailbox):
    page = to_code_page(client)
    clock.advance(179)
    assert post_code(client, page, latest_signin_code(EMAIL)).status_code == 303


def test_a_new_code_needs_30_seconds_and_replaces_the_previous_one(client, clock, user_id, mailbox):
    page = to_code_page(client)
    first = latest_signin_code(EMAIL)
    clock.advance(10)
    response = resend(client, page)
    assert response.status_code == 429
    assert "Wait 20 seconds, then request a new code." in response.text
    assert len(signin_code_messages(EMAIL)) == 1
    clock.advance(20)
    assert resend(client, page).status_code == 303
    second = latest_signin_code(EMAIL)
    if first != second:
        assert "The code is incorrect." in post_code(client, page, first).text
    assert post_code(client, page, second).status_code == 303


@pytest.mark.settings(MFA_EMAIL_CODE_DAILY_CAP=2)
def test_the_daily_cap_stops_new_codes(client, clock, user_id, mailbox):
    page = to_code_page(client)
    clock.advance(30)
    assert resend(client, page).status_code == 303
    clock.advance(30)
    response = resend(client, page)
    assert response.status_code == 429
    assert "You have requested too many codes today." in response.text
    assert len(signin_code_messages(EMAIL)) == 2


def test_a_code_from_another_sign_in_does_not_work_here(app, user_id, mailbox):
    """MFA-03: two browsers, two sign-ins; each code belongs to its own."""
    first, second = app.test_client(), app.test_client()
    first_page = to_code_page(first)
    first_code = latest_signin_code(EMAIL)
    second_page = to_code_page(second)  # sends its own code, which replaces the first
    response = post_code(second, second_page, first_code)
    assert response.status_code == 422
    assert post_code(first, first_page, first_code).status_code == 422
    assert post_code(second, second_page, latest_signin_code(EMAIL)).status_code == 303


def test_repeated_wrong_codes_lock_the_account_and_tell_the_owner(app, client, clock, user_id, mailbox):
    page = to_code_page(client)
    threshold = app.config["SIGNIN_LOCK_THRESHOLD"]
    for number in range(1, threshold + 1):
        if number % 5 == 1 and number > 1:  # a code takes five tries; then a new one
            clock.advance(30)
            assert resend(client, page).status_code == 303
        wait_out_the_delay(app, clock, user_id)
        response = post_code(client, page, wrong(latest_signin_code(EMAIL)))
    assert response.status_code == 422
    assert "signing in to this account is paused" in response.text
    locked = [message for message in mailbox.to(EMAIL) if "paused" in message["Subject"]]
    assert len(locked) == 1
    assert "15 minutes" in text_body(locked[0])
    # Even the right code does nothing during the lock.
    clock.advance(30)
    resend(client, page)
    response = post_code(client, page, latest_signin_code(EMAIL))
    assert response.status_code == 422 and cookie_value(client, "passerelle_session") is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x", "１２３４５６", "٠١٢٣٤٥", "9" * 5000])
def test_every_malformed_code_gets_a_translated_message(client, user_id, mailbox, typed):
    page = to_code_page(client)
    response = post_code(client, page, typed)
    assert response.status_code == 422
    assert "Enter the 6-digit code from the email." in response.text


def test_control_characters_get_the_bad_request_page_not_an_error(client, user_id, mailbox):
    page = to_code_page(client)
    response = post_code(client, page, "\x00" * 6)
    assert response.status_code == 400
    assert "Traceback" not in response.text and "<title>" in response.text


def test_a_post_without_csrf_changes_nothing(client, user_id, mailbox):
    to_code_page(client)
    response = client.post("/signin/code", data={"code": latest_signin_code(EMAIL)})
    assert response.status_code == 400
    assert cookie_value(client, "passerelle_session") is None


def test_the_french_page_follows_the_seed(client, user_id, mailbox):
    page = to_code_page(client, locale="fr")
    assert '<html lang="fr">' in page.text
    assert "Entrez le code envoyé à votre adresse courriel" in page.text
    assert "Valider le code" in page.text and "Demander un nouveau code" in page.text
    response = post_code(client, page, "abc")
    assert "Entrez le code à 6 chiffres reçu par courriel." in response.text


def test_the_password_still_works_after_an_abandoned_code_step(client, user_id, mailbox):
    """Leaving the code page and starting again is a new sign-in with a new code."""
    to_code_page(client)
    client.set_cookie("passerelle_signin", "")
    browser = SignIn(client)
    response = browser.submit(EMAIL, PASSWORD, browser.start())
    assert response.headers["Location"] == "/account"
    assert len(signin_code_messages(EMAIL)) == 2
