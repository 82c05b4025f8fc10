"""The account home through the Flask test client: profile, change password, active sessions
with "sign out everywhere else", recent security activity; each page needs a session, each
form its CSRF token, and no input makes a form fail."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.context import app_context
from idp.extensions import db
from tests.integration.signin.support import PASSWORD, SignIn, csrf_token, make_user

NEW_PASSWORD = "Tulipe-Orange-42-Ciel"
CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"


def browser(app, user_agent: str = CHROME_LINUX, locale: str = "en", signed_in: bool = True):
    test_client = app.test_client()
    test_client.environ_base["HTTP_USER_AGENT"] = user_agent
    signin = SignIn(test_client, locale=locale)
    if signed_in:
        signin.sign_in()
    return test_client


def change_password(test_client, current: str = PASSWORD, new: str = NEW_PASSWORD, confirm: str | None = None):
    page = test_client.get("/account/password")
    assert page.status_code == 200
    return test_client.post("/account/password", data={
        "csrf_token": csrf_token(page.text), "current_password": current,
        "password": new, "confirm_password": new if confirm is None else confirm})


@pytest.mark.parametrize("path", ["/account", "/account/password", "/account/sessions"])
def test_every_page_needs_a_session_and_comes_back_after_signing_in(app, path):
    make_user(app)
    test_client = browser(app, signed_in=False)
    signin = SignIn(test_client)
    response = signin.submit(page=signin.start(path))
    for _ in range(5):  # through any further sign-in step, back where the person was going
        if response.headers.get("Location") == path:
            break
        response = test_client.get(response.headers["Location"])
    assert response.headers.get("Location") == path
    assert test_client.get(path).status_code == 200


def test_posts_without_a_session_lead_to_sign_in_and_change_nothing(app, client):
    make_user(app)
    page = SignIn(client).start()  # the sign-in page, for a CSRF token
    for path in ("/account/password", "/account/sessions/end-others"):
        response = client.post(path, data={"csrf_token": csrf_token(page.text)})
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/signin")


def test_the_home_shows_the_profile_in_both_languages(app):
    make_user(app, phone_number="+33142685300")
    for locale, heading, language in (("fr", "Votre compte", "Français"), ("en", "Your account", "English")):
        test_client = browser(app, locale=locale)
        page = test_client.get("/account")
        assert f"<h1>{heading}</h1>" in page.text
        assert "Ana Tremblay" in page.text and "ana@example.ca" in page.text
        assert "+33 1 42 68 53 00" in page.text and language in page.text
        assert 'href="/account/password"' in page.text and 'href="/account/sessions"' in page.text


def test_recent_activity_is_shown_as_sentences_with_time_and_address(app):
    user_id = make_user(app)
    with app.app_context():
        ctx = app_context()
        record_event(db.session, ctx.clock, EventTag.SIGNIN_FAILURE, user_id=user_id, ip_address="198.51.100.4")
        record_event(db.session, ctx.clock, EventTag.PASSWORD_RESET, user_id=user_id, ip_address="2001:db8::1")
        record_event(db.session, ctx.clock, "account:future:thing", user_id=user_id)
        db.session.commit()
        year = str(ctx.clock().year)
    english = browser(app).get("/account").text
    for sentence in ("Failed sign-in attempt", "Password reset with an emailed link", "Other account activity"):
        assert sentence in english
    assert "198.51.100.4" in english and "2001:db8::1" in english and year in english
    french = browser(app, locale="fr").get("/account").text
    assert "Tentative d'ouverture de session échouée" in french.replace("&#39;", "'")
    assert "Mot de passe réinitialisé à l'aide d'un lien" in french.replace("&#39;", "'")


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, mailbox):
    make_user(app)
    here, elsewhere = browser(app), browser(app, FIREFOX_WINDOWS)
    response = change_password(here)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    home = here.get("/account")
    assert home.status_code == 200
    assert "Your password was changed." in home.text and "Password changed" in home.text
    assert elsewhere.get("/account").status_code == 303
    notice = mailbox.wait_for("ana@example.ca")
    assert notice["Subject"] == "Your Passerelle password was changed"
    assert PASSWORD not in str(notice) and NEW_PASSWORD not in str(notice)
    fresh = browser(app, signed_in=False)
    assert SignIn(fresh).submit(password=PASSWORD, page=SignIn(fresh).start()).status_code == 422
    SignIn(fresh).sign_in(password=NEW_PASSWORD)


def test_a_wrong_current_password_is_refused_and_counted(app):
    user_id = make_user(app)
    test_client = browser(app)
    response = change_password(test_client, current="not my password")
    assert response.status_code == 422
    assert "Your current password is incorrect." in response.text and '<div class="error-summary"' in response.text
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.failed_signin_count == 1
        assert app_context().passwords.verify(user.password_hash, PASSWORD)
    assert "Incorrect current password when changing the password" in test_client.get("/account").text


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("", NEW_PASSWORD, None, "Enter your current password."),
        ("x" * 5000, NEW_PASSWORD, None, "Your current password is incorrect."),
        (PASSWORD, "", "", "Enter a password."),
        (PASSWORD, "short", None, "Your password must have at least 14 characters."),
        (PASSWORD, "Tremblay-Soleil-2024", None, "must not contain your name"),
        (PASSWORD, NEW_PASSWORD, "something else", "The two passwords do not match."),
    ],
)
def test_each_bad_input_gets_its_own_message(app, current, new, confirm, message):
    make_user(app)
    response = change_password(browser(app), current, new, confirm)
    assert response.status_code == 422
    assert message in response.text


def test_each_bad_input_is_translated(app):
    make_user(app)
    response = change_password(browser(app, locale="fr"), "", "short")
    assert response.status_code == 422
    assert "Entrez votre mot de passe actuel." in response.text
    assert "Votre mot de passe doit comporter au moins 14 caractères." in response.text
    assert "<title>Erreur" in response.text


@pytest.mark.settings(PASSWORD_CHANGE_RATE_LIMIT="2 per minute")
def test_changing_the_password_is_rate_limited_per_address(app):
    make_user(app)
    test_client = browser(app)
    for _ in range(2):
        assert change_password(test_client, current="wrong").status_code == 422
    assert change_password(test_client, current="wrong").status_code == 429


def test_the_form_needs_its_csrf_token(app):
    make_user(app)
    test_client = browser(app)
    assert test_client.post("/account/password", data={"current_password": PASSWORD}).status_code == 400
    assert test_client.post("/account/sessions/end-others").status_code == 400


def test_sessions_are_listed_with_their_device_and_this_one_marked(app):
    make_user(app)
    here = browser(app, CHROME_LINUX)
    browser(app, FIREFOX_WINDOWS)
    page = here.get("/account/sessions")
    assert page.status_code == 200
    assert "Chrome on Linux" in page.text and "Firefox on Windows" in page.text
    assert page.text.count("This device") == 1
    assert page.text.index("This device") > page.text.index("Chrome on Linux")
    assert "Sign out everywhere else" in page.text
    french = browser(app, CHROME_LINUX, locale="fr").get("/account/sessions").text
    assert "Chrome sur Linux" in french and "Cet appareil" in french


def test_signing_out_everywhere_else_ends_the_other_browsers_only(app):
    make_user(app)
    here, elsewhere, another = browser(app), browser(app, FIREFOX_WINDOWS), browser(app, "curl/8.5")
    page = here.get("/account/sessions")
    response = here.post("/account/sessions/end-others", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303 and response.headers["Location"] == "/account/sessions"
    after = here.get("/account/sessions")
    assert "You were signed out on every other device." in after.text
    assert "Firefox on Windows" not in after.text and "Unknown device" not in after.text
    assert "Your account is signed in on this device only." in after.text
    assert "Sign out everywhere else</button>" not in after.text
    for other in (elsewhere, another):
        assert other.get("/account").status_code == 303
    assert here.get("/account").status_code == 200
    assert "Signed out on the other devices" in here.get("/account").text


def test_another_persons_sessions_are_not_listed_or_ended(app):
    make_user(app)
    make_user(app, "leo@example.ca", given_name="Léo", family_name="Roy")
    leo = app.test_client()
    leo.environ_base["HTTP_USER_AGENT"] = FIREFOX_WINDOWS
    SignIn(leo).sign_in("leo@example.ca")
    here = browser(app)
    page = here.get("/account/sessions")
    assert "Firefox" not in page.text and "Your account is signed in on this device only." in page.text
    token = csrf_token(here.get("/account").text)  # the page has no button: this is the only session
    assert here.post("/account/sessions/end-others", data={"csrf_token": token}).status_code == 303
    assert leo.get("/account").status_code == 200


@pytest.mark.settings(PASSWORD_CHANGE_RATE_LIMIT="1000 per minute")
def test_no_input_makes_the_change_password_form_fail(app):
    """Any text in any field, or a field missing: a page with a message, never a 500."""
    make_user(app)
    test_client = browser(app)
    token = csrf_token(test_client.get("/account/password").text)
    field = st.one_of(st.none(), st.text(max_size=200))

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(current=field, new=field, confirm=field)
    def post(current, new, confirm):
        data = {"csrf_token": token}
        for name, value in (("current_password", current), ("password", new), ("confirm_password", confirm)):
            if value is not None:
                data[name] = value
        response = test_client.post("/account/password", data=data)
        assert response.status_code in (400, 422), response.text[:300]

    post()


def test_the_help_page_answers_a_forgotten_password_and_a_missing_activation_email(client):
    for locale, forgot, missing in (
        ("en", "I forgot my password", "I didn't get the activation email"),
        ("fr", "J'ai oublié mon mot de passe", "Je n'ai pas reçu le courriel d'activation"),
    ):
        client.set_cookie("passerelle_lang", locale)
        page = client.get("/help").text.replace("&#39;", "'")
        assert forgot in page and missing in page
        assert page.count('href="/signin/help"') >= 2
