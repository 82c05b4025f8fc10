"""Repeated locks at the sign-in page end in a lock that only the emailed unlock link or an
operator ends (issue 9), told to nobody but the owner's mailbox (ENUM-01)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from idp.accounts.models import User
from idp.accounts.throttle import ThrottlePolicy
from idp.cli import main
from idp.context import app_context
from idp.extensions import db
from tests.integration.recovery.support import NEW_PASSWORD, ask_for_help, choose_password, open_reset_link, reset_path
from tests.integration.signin.support import PASSWORD, SignIn, cookie_value, csrf_token, make_user
from tests.integration.signin.test_abuse import attempt, normalized
from tests.mail_support import path_of_link, text_body

EMAIL = "ana@example.ca"
INCORRECT = "Incorrect email or password."
pytestmark = pytest.mark.settings(SIGNIN_RATE_LIMIT="1000 per minute", RECOVERY_RATE_LIMIT="1000 per minute")


def fail_until_locked(app, clock) -> None:
    """Wrong passwords, each after the progressive delay, until the account locks."""
    policy = ThrottlePolicy.from_settings(app.config)
    with app.app_context():
        failures = db.session.get(User, 1).failed_signin_count
    while True:
        clock.advance(policy.delay_for(failures).total_seconds())
        response = attempt(app, EMAIL, "not the password")
        assert response.status_code == 422 and INCORRECT in response.text
        failures += 1
        if policy.is_lock(failures):
            return


def lock_until_unlocked(app, clock) -> None:
    for _ in range(app.config["SIGNIN_TEMPORARY_LOCKS"] + 1):
        fail_until_locked(app, clock)
        clock.advance(app.config["SIGNIN_LOCK_DURATION"])


def subjects(mailbox) -> list[str]:
    return [message["Subject"] for message in mailbox.to(EMAIL)]


def test_repeated_locks_end_in_a_lock_that_only_the_emailed_link_ends(app, client, clock, mailbox):
    make_user(app)
    client.set_cookie("passerelle_lang", "en")
    lock_until_unlocked(app, clock)
    unlock_email = mailbox.wait_for(EMAIL, count=app.config["SIGNIN_TEMPORARY_LOCKS"] + 1)
    assert subjects(mailbox).count("Signing in to your Passerelle account is paused") == app.config["SIGNIN_TEMPORARY_LOCKS"]
    assert unlock_email["Subject"] == "Unlock signing in to your Passerelle account"
    assert "only once, for 7 days" in text_body(unlock_email)

    # A day later the right password still signs nobody in, with the usual answer.
    clock.advance(24 * 3600)
    response = attempt(app, EMAIL, PASSWORD)
    assert response.status_code == 422 and INCORRECT in response.text

    # Opening the link (as a mail scanner would) changes nothing; its button unlocks.
    link = path_of_link(unlock_email, "/signin/unlock/")
    page = client.get(link)
    assert page.status_code == 200 and "<title>Unlock your account – Passerelle</title>" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert attempt(app, EMAIL, PASSWORD).status_code == 422
    response = client.post(link, data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303 and response.headers["Location"] == "/signin/unlocked"
    assert cookie_value(client, "passerelle_session") is None  # unlocking signs nobody in
    done = client.get("/signin/unlocked")
    assert "Your account is unlocked" in done.text and 'href="/signin"' in done.text

    # The link is spent, and the person signs in as usual.
    again = client.get(link)
    assert again.status_code == 410 and "already used" in again.text
    browser = SignIn(app.test_client())
    assert browser.sign_in().headers["Location"] == "/account"


def test_the_page_of_a_lock_waiting_for_an_unlock_is_that_of_a_wrong_password(app, mailbox):
    make_user(app)
    wrong = attempt(app, EMAIL, "not the password")
    with app.app_context():
        db.session.execute(update(User).values(unlock_required_at=app_context().clock(), failed_signin_count=0))
        db.session.commit()
    locked = attempt(app, EMAIL, PASSWORD)
    unknown = attempt(app, "nobody@example.ca", PASSWORD)
    assert locked.status_code == wrong.status_code == unknown.status_code == 422
    assert normalized(locked, EMAIL) == normalized(wrong, EMAIL) == normalized(unknown, "nobody@example.ca")
    cookie_names = [sorted(h.split("=")[0] for h in r.headers.getlist("Set-Cookie")) for r in (wrong, locked, unknown)]
    assert cookie_names[0] == cookie_names[1] == cookie_names[2]


@pytest.mark.parametrize("locale, title", [("en", "This unlock link cannot be used"), ("fr", "Ce lien de déverrouillage ne peut pas être utilisé")])
def test_an_unknown_unlock_link_says_so_in_the_page_language(client, locale, title):
    client.set_cookie("passerelle_lang", locale)
    response = client.get("/signin/unlock/not-a-real-token")
    assert response.status_code == 404
    assert f"<title>{title} – Passerelle</title>" in response.text
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_post_without_csrf_token_unlocks_nothing(app, client, clock, mailbox):
    make_user(app)
    lock_until_unlocked(app, clock)
    link = path_of_link(mailbox.wait_for(EMAIL, count=app.config["SIGNIN_TEMPORARY_LOCKS"] + 1), "/signin/unlock/")
    assert client.post(link, data={}).status_code in (400, 422)
    assert attempt(app, EMAIL, PASSWORD).status_code == 422


def test_an_operator_unlocks_with_the_command_line(app, clock, mailbox):
    make_user(app)
    lock_until_unlocked(app, clock)
    runner = CliRunner()
    result = runner.invoke(main, ["users", "unlock", "ANA@example.ca", "--json"], obj=app, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"id": 1, "email": EMAIL, "was_locked": True}
    assert SignIn(app.test_client()).sign_in().headers["Location"] == "/account"

    result = runner.invoke(main, ["users", "unlock", "nobody@example.ca"], obj=app, catch_exceptions=False)
    assert result.exit_code == 1 and "No account has this address" in result.output


def test_a_password_reset_also_ends_a_lock_waiting_for_an_unlock(app, client, clock, mailbox):
    """The unlock link may have expired: "Can't sign in?" proves the mailbox just as well."""
    make_user(app)
    lock_until_unlocked(app, clock)
    sent = len(mailbox.to(EMAIL))
    clock.advance(app.config["SIGNIN_UNLOCK_LINK_TTL"])
    assert ask_for_help(client, EMAIL).status_code == 200
    page = open_reset_link(client, reset_path(mailbox.wait_for(EMAIL, count=sent + 1)))
    assert choose_password(client, page).status_code == 303
    assert SignIn(app.test_client()).sign_in(password=NEW_PASSWORD).headers["Location"] == "/account"
