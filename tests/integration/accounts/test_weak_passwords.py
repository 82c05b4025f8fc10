"""Issue 9 item 3 through the real pages: guessable, context and breached passwords are
refused with a translated reason; the Pwned Passwords check is off by default and fails open.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from idp.extensions import db
from tests.conftest import build_app
from tests.integration.accounts.test_account_home import browser, change_password
from tests.integration.signin.support import make_user
from tests.pwned_support import pwned_server

GUESSABLE = {
    "en": "This password would be too easy to guess.",
    "fr": "Ce mot de passe serait trop facile à deviner.",
}
PERSONAL = {
    "en": "Your password must not contain your name, your email address or the name of this service.",
    "fr": "Votre mot de passe ne doit contenir ni votre nom, ni votre adresse courriel, ni le nom de ce service.",
}
COMMON = {
    "en": "This password is too common or has appeared in a data breach",
    "fr": "Ce mot de passe est trop courant ou a déjà circulé après une fuite de données",
}
BREACHED = {
    "en": "This password appears in a list of passwords exposed in data breaches",
    "fr": "Ce mot de passe figure dans une liste de mots de passe exposés lors de fuites de données",
}
STRONG = "Lune Océan Trèfle 42"


def text_of(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).replace("\u2019", "'").split())


def refused_with(app, password: str, messages: dict[str, str]) -> None:
    for locale, message in messages.items():
        response = change_password(browser(app, locale=locale), new=password)
        assert response.status_code == 422, (locale, password)
        assert message.replace("\u2019", "'") in text_of(response), (locale, password)


@pytest.mark.parametrize("password", ["Qwerty!Qwerty!1", "Aaaaaaaaaaaaaa1!", "1qaz2wsx3edc4RFV!"])
def test_a_guessable_password_is_refused_in_english_and_french(app, password):
    make_user(app)
    refused_with(app, password, GUESSABLE)


@pytest.mark.parametrize("password", ["Password123456!", "P@ssw0rd123456", "Qwerty123456789!"])
def test_a_listed_password_with_digits_and_symbols_around_it_is_refused(app, password):
    make_user(app)
    refused_with(app, password, COMMON)


@pytest.mark.parametrize(
    "password",
    ["Pa\u200bsserelle2026!!", "P\u0430sserelle2026!!", "Tr\u0435mblay-Soleil-2024", "\u0410na-Lune-Soleil-24!"],
)
def test_the_service_name_or_the_persons_name_hidden_by_look_alikes_is_refused(app, password):
    make_user(app)  # Ana Tremblay
    refused_with(app, password, PERSONAL)


def test_the_checklist_says_guessability_is_checked_on_submit(app):
    make_user(app)
    assert "Hard to guess (checked when you submit the form)" in browser(app).get("/account/password").text
    assert "Difficile à deviner (vérifié à l’envoi du formulaire)" in browser(app, locale="fr").get(
        "/account/password").text


def test_signing_in_never_estimates_or_asks_pwned_passwords(app, monkeypatch):
    """The costly checks run when a password is set, never on the sign-in path."""
    import idp.security.password_policy as policy
    import idp.security.pwned_passwords as pwned

    def fail(*args, **kwargs):
        raise AssertionError("called at sign-in")

    monkeypatch.setattr(policy, "estimate_strength", fail)
    monkeypatch.setattr(policy, "is_common_password", fail)
    monkeypatch.setattr(pwned.PwnedPasswords, "is_breached", fail)
    make_user(app)
    assert browser(app).get("/account").status_code == 200  # signed in through every step


def test_a_strong_password_is_accepted(app):
    make_user(app)
    assert change_password(browser(app), new=STRONG).status_code == 303


# Pwned Passwords, against a range server on 127.0.0.1.


@pytest.fixture
def pwned():
    with pwned_server() as server:
        server.add_breached(STRONG)
        yield server


def app_with(database_uri, clock, **settings):
    return build_app(database_uri, clock, **settings)


@pytest.fixture
def close_apps():
    apps = []
    yield apps
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_pwned_check_is_off_by_default_and_asks_nothing(database_uri, clock, pwned, close_apps):
    app = app_with(database_uri, clock, PASSWORD_PWNED_URL=pwned.url)
    close_apps.append(app)
    make_user(app)
    assert change_password(browser(app), new=STRONG).status_code == 303
    assert pwned.requests == []


def test_a_breached_password_is_refused_when_the_check_is_on(database_uri, clock, pwned, close_apps):
    app = app_with(database_uri, clock, PASSWORD_PWNED_CHECK=True, PASSWORD_PWNED_URL=pwned.url)
    close_apps.append(app)
    make_user(app)
    refused_with(app, STRONG, BREACHED)
    assert all(path.startswith("/range/") and len(path) == len("/range/") + 5 for path, _ in pwned.requests)
    assert len(pwned.requests) == 2  # one per submission: the form's check and the service's share it
    assert change_password(browser(app), new="Tulipe-Orange-42-Ciel").status_code == 303


def test_a_pwned_service_that_does_not_answer_lets_the_password_through(database_uri, clock, pwned, close_apps, caplog):
    pwned.mode = "hang"
    app = app_with(database_uri, clock, PASSWORD_PWNED_CHECK=True, PASSWORD_PWNED_URL=pwned.url,
                   PASSWORD_PWNED_TIMEOUT=0.2)
    close_apps.append(app)
    make_user(app)
    assert change_password(browser(app), new=STRONG).status_code == 303  # fail-open
    assert "accepted without it" in caplog.text and STRONG not in caplog.text


def test_every_reason_and_checklist_line_has_its_words_in_both_languages(app):
    from flask_babel import force_locale

    from idp.accounts.password_text import PASSWORD_PROBLEM_MESSAGES, RULE_LABELS
    from idp.security.password_policy import PasswordPolicy, PasswordProblem

    assert set(PASSWORD_PROBLEM_MESSAGES) == set(PasswordProblem)
    assert {rule.key for rule in PasswordPolicy().rules()} <= set(RULE_LABELS)
    with app.test_request_context():
        for problem in (PasswordProblem.GUESSABLE, PasswordProblem.BREACHED):
            with force_locale("en"):
                english = str(PASSWORD_PROBLEM_MESSAGES[problem])
            with force_locale("fr"):
                assert str(PASSWORD_PROBLEM_MESSAGES[problem]) != english
