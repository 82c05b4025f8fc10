"""The live password checklist in real Chromium: each rule ticks as the person types (a
check or a cross, plus words for screen readers), a polite summary follows a pause, the
server still decides, and axe-core is satisfied, in French and English."""

from __future__ import annotations

import pytest
from flask import Blueprint, render_template_string
from playwright.sync_api import Page, expect

from idp.accounts.forms import NewPasswordForm, check_new_password_fields
from idp.accounts.views import get_account_service
from idp.extensions import db
from tests.conftest import _settings_marker, build_app
from tests.support import LiveServer

pytestmark = pytest.mark.browser

PAGE = """{% extends "base.html" %}
{% from "_macros/forms.html" import error_summary, page_title %}
{% from "_macros/password.html" import new_password_fields %}
{% block title %}{{ page_title(heading, form) }}{% endblock %}
{% block content %}
{{ error_summary(form) }}
<h1>{{ heading }}</h1>
{% if saved %}<p id="result">saved</p>{% else %}
<form method="post" novalidate>
  {{ form.csrf_token }}
  {{ new_password_fields(form.password, form.confirm_password) }}
  <button type="submit" class="button">{{ button }}</button>
</form>
{% endif %}
{% endblock %}
{% block scripts %}<script src="{{ url_for('static', filename='js/password-toggle.js') }}" defer></script>{% endblock %}"""
WORDS = {
    "fr": {"heading": "Nouveau mot de passe", "button": "Enregistrer", "label": "Mot de passe",
           "done": "(respectée)", "not_yet": "(pas encore respectée)",
           "summary": "Exigences du mot de passe respectées : 5 sur 5.",
           "common": "Ce mot de passe est trop courant"},
    "en": {"heading": "New password", "button": "Save", "label": "Password",
           "done": "(done)", "not_yet": "(not yet)", "summary": "Password requirements met: 5 of 5.",
           "common": "This password is too common"},
}


def password_blueprint() -> Blueprint:
    bp = Blueprint("password_browser_test", __name__)

    @bp.route("/test/new-password", methods=["GET", "POST"])
    def new_password():
        from flask_babel import get_locale

        words = WORDS[str(get_locale())]
        form = NewPasswordForm()
        saved = form.validate_on_submit() and check_new_password_fields(
            form, get_account_service(), email="ana.tremblay@example.ca", given_name="Ana", family_name="Tremblay")
        html = render_template_string(PAGE, form=form, saved=saved, heading=words["heading"], button=words["button"])
        return html, 422 if form.errors else 200

    return bp


@pytest.fixture
def live_server(request, database_uri, clock):
    server = LiveServer()
    app = build_app(database_uri, clock, issuer=server.url, **_settings_marker(request))
    app.register_blueprint(password_blueprint())
    server.start(app)
    yield server
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def rule(page: Page, key: str):
    return page.locator(f'li[data-rule="{key}"]')


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_rules_tick_as_the_person_types(page: Page, live_server, axe, locale):
    words = WORDS[locale]
    page.context.add_cookies([{"name": "passerelle_lang", "value": locale, "url": live_server.url}])
    page.goto("/test/new-password")
    password = page.get_by_label(words["label"], exact=True)
    expect(password).to_have_attribute("aria-describedby", "password-rules-title password-rules")
    axe.assert_accessible(page, f"the new password fields ({locale})")

    password.press_sequentially("tulipe")

    expect(rule(page, "no_lower")).to_have_attribute("data-state", "met")
    expect(rule(page, "no_lower").locator(".password-rules__mark")).to_have_text("\u2713")
    expect(rule(page, "no_lower").locator(".password-rules__status")).to_have_text(" " + words["done"])
    for key in ("length", "no_special", "no_digit", "no_upper"):
        expect(rule(page, key)).to_have_attribute("data-state", "unmet")
        expect(rule(page, key).locator(".password-rules__mark")).to_have_text("\u2717")
        expect(rule(page, key).locator(".password-rules__status")).to_have_text(" " + words["not_yet"])
    # Only the server knows the list and the person: those lines stay as they were.
    expect(rule(page, "common")).not_to_have_attribute("data-state", "met")
    expect(rule(page, "personal").locator(".password-rules__mark")).to_have_text("")

    password.press_sequentially("-Orange-42-Été")  # 20 characters, every class

    for key in ("length", "no_special", "no_digit", "no_upper", "no_lower"):
        expect(rule(page, key)).to_have_attribute("data-state", "met")
    expect(page.locator("#password-rules-summary")).to_have_text(words["summary"])
    expect(page.locator("#password-rules-summary")).to_have_attribute("aria-live", "polite")
    axe.assert_accessible(page, f"the new password fields while typing ({locale})")

    page.get_by_label(words["label"], exact=True).fill("AIrplanesfly12!@")  # meets every shown rule
    page.locator("#confirm_password").fill("AIrplanesfly12!@")
    page.get_by_role("button", name=words["button"]).click()

    expect(page.locator("#password-error")).to_contain_text(words["common"])  # the server decides
    axe.assert_accessible(page, f"the new password fields with an error ({locale})")

    page.get_by_label(words["label"], exact=True).fill("Tulipe-Orange-42-Été")
    page.locator("#confirm_password").fill("Tulipe-Orange-42-Été")
    page.get_by_role("button", name=words["button"]).click()
    expect(page.locator("#result")).to_have_text("saved")


def test_the_show_password_buttons_still_work(page: Page, live_server):
    page.context.add_cookies([{"name": "passerelle_lang", "value": "en", "url": live_server.url}])
    page.goto("/test/new-password")
    page.get_by_label("Password", exact=True).fill("Tulipe-Orange-42")
    buttons = page.get_by_role("button", name="Show password")
    expect(buttons).to_have_count(2)
    buttons.first.click()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("type", "text")


def test_invisible_characters_neither_pad_the_length_nor_count_as_special(page: Page, live_server):
    """As on the server (issue 9): a zero-width space is no character and no special one."""
    page.context.add_cookies([{"name": "passerelle_lang", "value": "en", "url": live_server.url}])
    page.goto("/test/new-password")
    password = page.get_by_label("Password", exact=True)
    password.fill("Tulipe-Oran\u200b4")  # 14 code points, 13 visible
    expect(rule(page, "length")).to_have_attribute("data-state", "unmet")
    password.fill("Tulipe\u200bOrange42Ciel")
    expect(rule(page, "length")).to_have_attribute("data-state", "met")
    expect(rule(page, "no_special")).to_have_attribute("data-state", "unmet")


def test_a_guessable_password_is_the_servers_call(page: Page, live_server):
    page.context.add_cookies([{"name": "passerelle_lang", "value": "fr", "url": live_server.url}])
    page.goto("/test/new-password")
    page.get_by_label("Mot de passe", exact=True).fill("Qwerty!Qwerty!1")  # every shown rule met
    expect(rule(page, "guessable").locator(".password-rules__mark")).to_have_text("")
    page.locator("#confirm_password").fill("Qwerty!Qwerty!1")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator("#password-error")).to_contain_text("Ce mot de passe serait trop facile à deviner.")
