"""The whole reset journey through the Flask test client and a real SMTP mailbox: ask, open
the emailed link, choose a password; every session ends, the new password works and the old
one does not, and the person is not signed in by the reset (REC-05..REC-08, REC-10)."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.recovery.models import PasswordReset
from tests.integration.recovery.support import (
    NEW_PASSWORD,
    RESET_COOKIE,
    ask_for_help,
    choose_password,
    open_reset_link,
    reset_path,
)
from tests.integration.signin.support import PASSWORD, SignIn, csrf_token, make_user
from tests.mail_support import text_body


def emailed_reset_path(client, mailbox, email: str = "ana@example.ca", count: int = 1) -> str:
    assert ask_for_help(client, email).status_code == 200
    return reset_path(mailbox.wait_for(email, count=count))


def test_the_whole_journey_ends_every_session_and_only_the_new_password_works(app, client, mailbox):
    make_user(app)
    elsewhere = app.test_client()
    SignIn(elsewhere).sign_in()
    assert elsewhere.get("/account").status_code == 200

    client.set_cookie("passerelle_lang", "en")
    page = open_reset_link(client, emailed_reset_path(client, mailbox))
    assert page.status_code == 200
    assert "Choose a new password" in page.text and "ana@example.ca" in page.text
    assert 'data-password-rules-for="password"' in page.text  # the rules checklist
    done = choose_password(client, page)
    assert done.status_code == 303 and done.headers["Location"] == "/signin/reset/done"
    final = client.get("/signin/reset/done")
    assert "Your password was changed" in final.text and 'href="/signin"' in final.text

    # Not signed in by the reset: the second factor is still to come (REC-07).
    assert client.get("/account").status_code == 303
    # Every session ended, the other browser's too (REC-10).
    assert elsewhere.get("/account").status_code == 303
    # The notification, in the page's language.
    notice = mailbox.wait_for("ana@example.ca", count=2)
    assert notice["Subject"] == "Your Passerelle password was changed"
    assert "with a reset link sent to this address" in text_body(notice)

    fresh = app.test_client()
    assert SignIn(fresh).submit(password=PASSWORD, page=SignIn(fresh).start()).status_code == 422
    SignIn(fresh).sign_in(password=NEW_PASSWORD)
    assert fresh.get("/account").status_code == 200


def test_opening_the_link_moves_the_token_out_of_the_address_bar(app, client, mailbox):
    make_user(app)
    path = emailed_reset_path(client, mailbox)
    opened = client.get(path)
    assert opened.status_code == 303 and opened.headers["Location"] == "/signin/reset"
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    cookie = client.get_cookie(RESET_COOKIE)
    assert cookie is not None and cookie.http_only and cookie.value == path.rsplit("/", 1)[1]
    page = client.get("/signin/reset")
    assert path.rsplit("/", 1)[1] not in page.text
    # Opening it again (a mail scanner, a second click) does not spend it.
    assert client.get(path).status_code == 303
    assert choose_password(client, client.get("/signin/reset")).status_code == 303


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_used_link_says_so_and_offers_a_new_one(app, client, mailbox, locale):
    make_user(app)
    client.set_cookie("passerelle_lang", locale)
    path = emailed_reset_path(client, mailbox)
    choose_password(client, open_reset_link(client, path))
    again = client.get(path)
    assert again.status_code == 400
    expected = "Ce lien a déjà servi" if locale == "fr" else "This link was already used"
    assert expected in again.text.replace("&#39;", "'") and 'href="/signin/help"' in again.text
    assert client.get_cookie(RESET_COOKIE) is None


def test_an_expired_link_says_so(app, client, mailbox, clock):
    make_user(app)
    client.set_cookie("passerelle_lang", "en")
    path = emailed_reset_path(client, mailbox)
    page = open_reset_link(client, path)
    clock.advance(seconds=3600)
    for response in (choose_password(client, page), client.get(path)):
        assert response.status_code == 400
        assert "This link has expired: a reset link works for 60 minutes." in response.text


def test_a_newer_request_makes_older_links_stop_working(app, client, mailbox, clock):
    make_user(app)
    client.set_cookie("passerelle_lang", "en")
    older = emailed_reset_path(client, mailbox)
    clock.advance(seconds=app.config["RECOVERY_EMAIL_COOLDOWN"] + 1)  # within it, no new link is sent
    newer = emailed_reset_path(client, mailbox, count=2)
    assert older != newer
    refused = client.get(older)
    assert refused.status_code == 400 and "only the newest link works" in refused.text
    assert choose_password(client, open_reset_link(client, newer)).status_code == 303


@pytest.mark.parametrize("token", ["x", "A" * 43, "%00", "A" * 300])
def test_an_unknown_link_is_a_clear_page_not_an_error(client, token):
    client.set_cookie("passerelle_lang", "en")
    response = client.get(f"/signin/reset/{token}")
    assert response.status_code == 400
    assert "This link does not work" in response.text


def test_the_form_cannot_be_used_without_an_opened_link(app, client, mailbox):
    """REC-08: no token, a forged cookie, or only a session from sign-in: refused."""
    make_user(app)
    SignIn(client).sign_in()
    page = client.get("/account/password")
    for cookie in (None, "forged"):
        if cookie:
            client.set_cookie(RESET_COOKIE, cookie)
        assert client.get("/signin/reset").status_code == 400
        response = client.post("/signin/reset", data={
            "csrf_token": csrf_token(page.text), "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
        assert response.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(SecurityEvent.tag)).all().count(EventTag.PASSWORD_RESET) == 0


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("", "", "Enter a password."),
        ("short", "short", "Your password must have at least 14 characters."),
        ("Ana-Tremblay-2024-x", "Ana-Tremblay-2024-x", "must not contain your name"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords do not match."),
        (NEW_PASSWORD, "", "Enter your password again."),
        ("P" * 2000, "P" * 2000, "no more than 128 characters"),
    ],
)
def test_a_refused_password_gets_its_message_and_keeps_the_link(app, client, mailbox, password, confirm, message):
    make_user(app)
    client.set_cookie("passerelle_lang", "en")
    page = open_reset_link(client, emailed_reset_path(client, mailbox))
    refused = choose_password(client, page, password, confirm)
    assert refused.status_code == 422
    assert message in refused.text and '<div class="error-summary"' in refused.text
    assert choose_password(client, refused).status_code == 303


def test_two_browsers_racing_with_one_link_change_the_password_once(app, mailbox):
    """REC-06: the same link submitted at once from two browsers: exactly one succeeds."""
    make_user(app)
    asker = app.test_client()
    path = emailed_reset_path(asker, mailbox)
    browsers = [app.test_client() for _ in range(2)]
    pages = [open_reset_link(browser, path) for browser in browsers]
    barrier = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def submit(browser, page, password):
        barrier.wait()
        statuses.append(choose_password(browser, page, password).status_code)

    threads = [
        threading.Thread(target=submit, args=(browser, page, f"{NEW_PASSWORD}-{index}"))
        for index, (browser, page) in enumerate(zip(browsers, pages, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [303, 400]
    with app.app_context():
        [reset] = db.session.scalars(select(PasswordReset)).all()
        assert reset.used_at is not None
        assert db.session.scalars(select(SecurityEvent.tag)).all().count(EventTag.PASSWORD_RESET) == 1


@pytest.mark.settings(RATELIMIT_ENABLED=False, MAIL_SEND_AFTER_RESPONSE=False)
def test_no_input_makes_the_reset_form_fail(app, mailbox):
    """Any text in either field, or a field missing: a page with a message, never a 500."""
    make_user(app)
    browser = app.test_client()
    assert ask_for_help(browser, "ana@example.ca").status_code == 200
    with app.app_context():
        from idp.context import app_context
        from idp.mail.models import OutboxMessage
        from idp.mail.services import MailService

        ctx = app_context()
        message = db.session.scalars(select(OutboxMessage)).one()
        url = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box).context_of(message)["reset_url"]
    page = open_reset_link(browser, "/signin/reset/" + url.rsplit("/", 1)[1])
    token = csrf_token(page.text)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        password=st.one_of(st.none(), st.text(max_size=300)),
        confirm=st.one_of(st.none(), st.text(max_size=300)),
    )
    def post(password, confirm):
        data = {"csrf_token": token}
        if password is not None:
            data["password"] = password
        if confirm is not None:
            data["confirm_password"] = confirm
        response = browser.post("/signin/reset", data=data)
        assert response.status_code in (303, 400, 422), response.text[:300]

    post()


@pytest.mark.settings(SIGNIN_LOCK_THRESHOLD=3, SIGNIN_DELAY_AFTER=10)
def test_a_locked_account_can_reset_and_sign_in_at_once(app, client, mailbox):
    """RATE-03: a lock never stops a reset, and the reset clears the failure count and lock."""
    user_id = make_user(app)
    for _ in range(3):
        signin = SignIn(app.test_client())
        assert signin.submit_password(password="wrong", page=signin.start()).status_code == 422
    with app.app_context():
        from idp.accounts.models import User

        assert db.session.get(User, user_id).locked_until is not None
    choose_password(client, open_reset_link(client, emailed_reset_path(client, mailbox, count=2)))
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.failed_signin_count, user.locked_until) == (0, None)
    SignIn(app.test_client()).sign_in(password=NEW_PASSWORD)
