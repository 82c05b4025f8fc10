"""Abuse resistance at sign-in through the test client: the failure throttle (progressive
delay, lock told only by email), the same answer and similar time whatever the reason
(ENUM-01), per-address rate limits (429) and the security events."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from idp.context import app_context
from idp.extensions import db
from idp.security.passwords import PasswordHasher
from tests.integration.signin.support import PASSWORD, SignIn, cookie_value, csrf_token, make_user

EMAIL = "ana@example.ca"
INCORRECT = "Incorrect email or password."


def attempt(app, email: str, password: str):
    """One password attempt from a fresh browser; returns the answer."""
    browser = SignIn(app.test_client())
    return browser.submit_password(email, password, browser.start())


def normalized(response, typed_email: str) -> str:
    """The page without what legitimately differs: the CSRF token and the address typed."""
    text = response.text.replace(csrf_token(response.text), "TOKEN").replace(typed_email, "EMAIL")
    return re.sub(r'value="[^"]*"', 'value=""', text)


def set_failures(app, count: int, locked_for: float | None = None) -> None:
    with app.app_context():
        ctx = app_context()
        locked_until = ctx.clock() + timedelta(seconds=locked_for) if locked_for else None
        db.session.execute(update(User).where(User.email == EMAIL).values(
            failed_signin_count=count, locked_until=locked_until, last_failed_signin_at=ctx.clock()))
        db.session.commit()


def lock_emails(mailbox) -> list:
    return [message for message in mailbox.to(EMAIL) if "paused" in message["Subject"]]


def fail_until_locked(app, clock) -> None:
    """Wrong passwords, each after the progressive delay, up to the lock threshold."""
    from idp.accounts.throttle import ThrottlePolicy

    policy = ThrottlePolicy.from_settings(app.config)
    for failures in range(app.config["SIGNIN_LOCK_THRESHOLD"]):
        clock.advance(policy.delay_for(failures).total_seconds())
        response = attempt(app, EMAIL, "not the password")
        assert response.status_code == 422 and INCORRECT in response.text


@pytest.mark.settings(SIGNIN_RATE_LIMIT="1000 per minute")
def test_unknown_locked_too_early_and_wrong_all_get_the_same_page(app, mailbox):
    make_user(app)
    answers = {}
    answers["wrong password"] = attempt(app, EMAIL, "not the password")
    answers["unknown address"] = attempt(app, "nobody@example.ca", PASSWORD)
    set_failures(app, 3, locked_for=1)
    answers["too early, right password"] = attempt(app, EMAIL, PASSWORD)
    set_failures(app, 10, locked_for=900)
    answers["locked, right password"] = attempt(app, EMAIL, PASSWORD)

    typed = {"unknown address": "nobody@example.ca"}
    pages = {reason: normalized(response, typed.get(reason, EMAIL)) for reason, response in answers.items()}
    reference = pages["wrong password"]
    for reason, response in answers.items():
        assert response.status_code == 422, reason
        assert INCORRECT in response.text, reason
        assert pages[reason] == reference, f"{reason} differs from a wrong password"
        assert sorted(h.split("=")[0] for h in response.headers.getlist("Set-Cookie")) == sorted(
            h.split("=")[0] for h in answers["wrong password"].headers.getlist("Set-Cookie")), reason
    assert lock_emails(mailbox) == []  # set_failures locked without an email: none is sent later


@pytest.mark.settings(SIGNIN_RATE_LIMIT="1000 per minute")
def test_refused_attempts_take_about_as_long_as_a_wrong_password(app, mailbox):
    """ENUM-01, loosely: with production-strength argon2id, the median time of each kind of
    refusal is within a factor of two of a wrong password's (the same argon2 work runs)."""
    ctx = app.extensions["idp"]
    ctx.passwords = PasswordHasher()  # the production parameters (19 MiB, t=2)
    make_user(app)

    def timed(email: str, password: str, before=None) -> float:
        samples = []
        for _ in range(7):
            if before:
                before()
            browser = SignIn(app.test_client())
            page = browser.start()
            started = time.perf_counter()
            response = browser.submit_password(email, password, page)
            samples.append(time.perf_counter() - started)
            assert response.status_code == 422
        return statistics.median(samples)

    medians = {
        "wrong password": timed(EMAIL, "not the password", before=lambda: set_failures(app, 0)),
        "unknown address": timed("nobody@example.ca", PASSWORD),
        "too early": timed(EMAIL, PASSWORD, before=lambda: set_failures(app, 3, locked_for=1)),
        "locked": timed(EMAIL, PASSWORD, before=lambda: set_failures(app, 10, locked_for=900)),
    }
    reference = medians["wrong password"]
    print({reason: round(median, 4) for reason, median in medians.items()})
    for reason, median in medians.items():
        assert reference / 2 < median < reference * 2, f"{reason}: {median:.4f}s against {reference:.4f}s ({medians})"


@pytest.mark.settings(SIGNIN_RATE_LIMIT="1000 per minute")
def test_repeated_wrong_passwords_lock_the_account_and_only_the_email_tells(app, client, clock, mailbox):
    user_id = make_user(app)
    fail_until_locked(app, clock)
    [email] = lock_emails(mailbox)
    assert email["Subject"] == "Signing in to your Passerelle account is paused"
    assert "15 minutes" in email.get_body(("plain",)).get_content()

    # During the lock the right password signs nobody in, with the same page, and no new email.
    clock.advance(60)
    response = attempt(app, EMAIL, PASSWORD)
    assert response.status_code == 422 and INCORRECT in response.text
    assert "paused" not in response.text and "locked" not in response.text.lower()
    assert len(lock_emails(mailbox)) == 1

    with app.app_context():
        tags = [event.tag for event in db.session.scalars(
            select(SecurityEvent).where(SecurityEvent.user_id == user_id).order_by(SecurityEvent.id))]
    assert tags.count(str(EventTag.ACCOUNT_LOCKED)) == 1
    assert tags.count(str(EventTag.SIGNIN_FAILURE)) == app.config["SIGNIN_LOCK_THRESHOLD"] + 1

    # Once the lock is over, the right password goes on to the emailed code, and signing in
    # completely clears the count.
    clock.advance(app.config["SIGNIN_LOCK_DURATION"])
    browser = SignIn(client)
    response = browser.submit(EMAIL, PASSWORD, browser.start())
    assert response.headers["Location"] == "/account"
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.failed_signin_count == 0 and user.locked_until is None


@pytest.mark.settings(SIGNIN_RATE_LIMIT="1000 per minute")
def test_after_three_failures_an_immediate_attempt_is_refused_unchecked(app, client, clock, mailbox):
    make_user(app)
    for _ in range(3):
        attempt(app, EMAIL, "not the password")
    response = attempt(app, EMAIL, PASSWORD)
    assert response.status_code == 422 and INCORRECT in response.text
    clock.advance(1)
    browser = SignIn(client)
    assert browser.submit_password(EMAIL, PASSWORD, browser.start()).status_code == 303


def test_failures_are_recorded_with_address_and_browser(app, mailbox):
    user_id = make_user(app)
    test_client = app.test_client()
    test_client.environ_base["HTTP_USER_AGENT"] = "Navigateur/1.0"
    browser = SignIn(test_client)
    browser.submit_password(EMAIL, "not the password", browser.start())
    with app.app_context():
        event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.SIGNIN_FAILURE)))
    assert (event.user_id, event.ip_address, event.user_agent) == (user_id, "127.0.0.1", "Navigateur/1.0")
    request_id = event.details.pop("request_id")  # the request's id (issue 15), as in its log lines
    assert event.details == {"step": "password", "reason": "wrong_password"} and len(request_id) == 32


@pytest.mark.settings(SIGNIN_RATE_LIMIT="2 per minute")
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_too_many_sign_in_posts_from_one_address_get_a_translated_429(app, client, locale):
    make_user(app)
    browser = SignIn(client, locale=locale)
    page = browser.start()
    for _ in range(2):
        assert browser.submit_password(EMAIL, "not the password", page).status_code == 422
    response = browser.submit_password(EMAIL, PASSWORD, page)
    assert response.status_code == 429
    title = {"en": "Too many attempts", "fr": "Trop de tentatives"}[locale]
    assert f"<title>{title} – Passerelle</title>" in response.text
    assert cookie_value(client, "passerelle_session") is None


@pytest.mark.settings(SIGNIN_RATE_LIMIT="1 per minute")
def test_the_code_and_resend_posts_are_limited_too(app, client, clock, mailbox):
    make_user(app)
    browser = SignIn(client)
    response = browser.submit_password(EMAIL, PASSWORD, browser.start())
    page = client.get(client.get(response.headers["Location"]).headers["Location"])
    token = csrf_token(page.text)
    assert client.post("/signin/code", data={"csrf_token": token, "code": "000000"}).status_code == 422
    limited = client.post("/signin/code", data={"csrf_token": token, "code": "000000"})
    assert limited.status_code == 429 and "<title>Too many attempts – Passerelle</title>" in limited.text
    clock.advance(30)  # past the resend cooldown: only the address limit can refuse now
    assert client.post("/signin/code/resend", data={"csrf_token": token}).status_code == 303
    limited = client.post("/signin/code/resend", data={"csrf_token": token})
    assert limited.status_code == 429 and "<title>Too many attempts – Passerelle</title>" in limited.text
