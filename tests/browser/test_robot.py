"""The "not a robot" widget in real Chromium, under the real CSP: it loads from Passerelle,
solves with the keyboard, the payload it posts verifies on the server (once), in French and
English, and axe-core finds no serious violation before or after.

The real forms (registration, "can't sign in?") use the same macro; this page, registered
only here, keeps the widget's own behaviour testable on its own."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, render_template_string
from flask_wtf import FlaskForm
from playwright.sync_api import Page, expect

from idp.extensions import db
from idp.robot.forms import RobotCheckField
from idp.robot.models import SpentRobotChallenge
from idp.robot.web import check_robot
from tests.conftest import _settings_marker, build_app
from tests.support import LiveServer

pytestmark = pytest.mark.browser

PAGE = """{% extends "base.html" %}
{% from "_macros/forms.html" import error_summary, page_title %}
{% from "_macros/robot.html" import robot_check %}
{% block title %}{{ page_title(heading, form) }}{% endblock %}
{% block content %}
{{ error_summary(form) }}
<h1>{{ heading }}</h1>
{% if passed %}<p id="result">passed</p>{% else %}
<form method="post" novalidate>
  {{ form.csrf_token }}
  {{ robot_check(form.altcha) }}
  <button type="submit" class="button">{{ button }}</button>
</form>
{% endif %}
{% endblock %}"""
HEADINGS = {"fr": ("Demande d’aide", "Envoyer"), "en": ("Request help", "Send")}
WIDGET_TEXT = {
    "fr": {"label": "Je ne suis pas un robot", "verified": "Vérifié", "legend": "Confirmez que vous n’êtes pas un robot",
           "error": "Nous n’avons pas pu confirmer que vous n’êtes pas un robot."},
    "en": {"label": "I am not a robot", "verified": "Verified", "legend": "Confirm you are not a robot",
           "error": "We could not confirm you are not a robot."},
}


class RobotForm(FlaskForm):
    altcha = RobotCheckField()


def robot_blueprint() -> Blueprint:
    bp = Blueprint("robot_browser_test", __name__)

    @bp.route("/test/robot", methods=["GET", "POST"])
    def robot_page():
        from flask_babel import get_locale

        heading, button = HEADINGS[str(get_locale())]
        form = RobotForm()
        passed = form.validate_on_submit() and check_robot(form.altcha)
        if passed:
            db.session.commit()
        status = 422 if form.errors else 200
        return render_template_string(PAGE, form=form, passed=passed, heading=heading, button=button), status

    return bp


@pytest.fixture
def live_server(request, database_uri, clock):
    """The IdP over real HTTP with the test page added before it serves anything."""
    server = LiveServer()
    app = build_app(database_uri, clock, issuer=server.url, **_settings_marker(request))
    app.register_blueprint(robot_blueprint())
    server.start(app)
    yield server
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def open_page(page: Page, live_server, locale: str) -> list[str]:
    """Open the test page in a language; returns the list that collects console errors."""
    errors: list[str] = []

    def on_console(message) -> None:
        # Chromium reports the 422 of a form shown again with errors, and asks for a
        # /favicon.ico that Passerelle does not have: neither is a failure of the widget.
        url = message.location.get("url", "")
        if message.type == "error" and not url.endswith(("/favicon.ico", "/test/robot")):
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.context.add_cookies([{"name": "passerelle_lang", "value": locale, "url": live_server.url}])
    page.goto("/test/robot")
    return errors


def spent_challenges(live_server) -> int:
    with live_server.app.app_context():
        return db.session.query(SpentRobotChallenge).count()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_widget_solves_with_the_keyboard_and_the_server_accepts_it_once(page, live_server, axe, locale):
    text = WIDGET_TEXT[locale]
    errors = open_page(page, live_server, locale)
    checkbox = page.get_by_role("checkbox", name=text["label"])
    expect(checkbox).to_be_visible()
    expect(page.get_by_role("group", name=text["legend"])).to_be_visible()
    axe.assert_accessible(page, f"the robot check before solving ({locale})")

    checkbox.focus()
    page.keyboard.press("Space")

    expect(page.get_by_text(text["verified"], exact=True)).to_be_visible()
    payload = page.locator("input[type=hidden][name=altcha]")
    expect(payload).to_have_count(1)
    assert re.fullmatch(r"[A-Za-z0-9+/=]{100,}", payload.input_value())
    axe.assert_accessible(page, f"the robot check once solved ({locale})")

    page.get_by_role("button", name=HEADINGS[locale][1]).click()

    expect(page.locator("#result")).to_have_text("passed")
    assert spent_challenges(live_server) == 1
    # Nothing was blocked by the CSP and no script failed (a style or worker refused by
    # style-src/script-src 'self' would show here).
    assert errors == []


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_submitting_without_solving_shows_the_error_accessibly(page, live_server, axe, locale):
    text = WIDGET_TEXT[locale]
    errors = open_page(page, live_server, locale)
    expect(page.get_by_role("checkbox", name=text["label"])).to_be_visible()

    page.get_by_role("button", name=HEADINGS[locale][1]).click()

    summary = page.locator(".error-summary")
    expect(summary).to_contain_text(text["error"])
    expect(page.locator("#altcha-error")).to_contain_text(text["error"])
    summary.get_by_role("link").click()
    expect(page.locator("#altcha")).to_be_focused()
    axe.assert_accessible(page, f"the robot check with an error ({locale})")
    assert spent_challenges(live_server) == 0
    assert errors == []


def test_a_payload_from_the_page_cannot_be_replayed(page, live_server):
    open_page(page, live_server, "en")
    page.get_by_role("checkbox", name="I am not a robot").click()
    expect(page.get_by_text("Verified", exact=True)).to_be_visible()
    payload = page.locator("input[type=hidden][name=altcha]").input_value()
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#result")).to_have_text("passed")

    page.goto("/test/robot")
    page.evaluate(
        """(payload) => {
            const input = document.createElement("input");
            input.type = "hidden"; input.name = "altcha"; input.value = payload;
            const form = document.querySelector("form");
            document.querySelector("altcha-widget").remove();
            form.appendChild(input);
            form.submit();
        }""",
        payload,
    )

    expect(page.locator("#altcha-error")).to_contain_text("We could not confirm you are not a robot.")
    assert spent_challenges(live_server) == 1


def test_without_javascript_the_form_fails_clearly_and_points_to_help(browser, live_server):
    """Playwright's switch stops scripts but leaves Chromium parsing <noscript> as if they ran,
    so its words are checked in the markup (the integration tests check them rendered)."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    context.add_cookies([{"name": "passerelle_lang", "value": "en", "url": live_server.url}])
    page.goto("/test/robot")
    assert "This check needs JavaScript, which is turned off in your browser." in page.locator("noscript").text_content()
    expect(page.get_by_role("link", name="Get help with the check")).to_have_attribute("href", "/help#not-a-robot")

    page.get_by_role("button", name="Send").click()

    expect(page.locator("#altcha-error")).to_contain_text("We could not confirm you are not a robot.")
    expect(page.get_by_role("link", name="Get help with the check")).to_be_visible()
    context.close()
