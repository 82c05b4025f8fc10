"""The challenge endpoint, the robot_check macro and check_robot(), through the Flask test
client. The form page is registered only in these tests: app code has no test-only form."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from flask import Blueprint, render_template_string
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired

from idp.robot.forms import RobotCheckField
from idp.robot.web import check_robot
from tests.oidc_support import csrf_token
from tests.robot_support import fetch_robot_challenge, solve, solve_robot_check

PAGE = """{% extends "base.html" %}
{% from "_macros/forms.html" import error_summary, page_title %}
{% from "_macros/robot.html" import robot_check %}
{% block title %}{{ page_title('Robot', form) }}{% endblock %}
{% block content %}
{{ error_summary(form) }}
<h1>Robot</h1>
<form method="post" novalidate>
  {{ form.csrf_token }}
  {{ robot_check(form.altcha) }}
  <button type="submit" class="button">Send</button>
</form>
{% endblock %}"""


class RobotForm(FlaskForm):
    altcha = RobotCheckField()


class RobotAndNameForm(FlaskForm):
    name = StringField(validators=[InputRequired()])
    altcha = RobotCheckField()


@pytest.fixture
def page(app):
    bp = Blueprint("robot_test", __name__)

    @bp.route("/test/robot", methods=["GET", "POST"])
    def robot_page():
        form = RobotForm()
        if form.validate_on_submit() and check_robot(form.altcha):
            from idp.extensions import db

            db.session.commit()
            return "passed"
        return render_template_string(PAGE, form=form), 422 if form.errors else 200

    @bp.route("/test/robot-and-name", methods=["GET", "POST"])
    def robot_and_name_page():
        """A form as the real ones are: every check runs, and a failure commits nothing."""
        form = RobotAndNameForm()
        if form.is_submitted():
            is_valid = form.validate()
            if check_robot(form.altcha) and is_valid:
                from idp.extensions import db

                db.session.commit()
                return "passed"
        return render_template_string(PAGE, form=form), 422 if form.errors else 200

    app.register_blueprint(bp)
    return "/test/robot"


CHECK_AGAIN = {
    "en": "We could not confirm you are not a robot. Check the box, wait until it says you are verified, "
          "then submit the form again.",
    "fr": "Nous n’avons pas pu confirmer que vous n’êtes pas un robot. Cochez la case, attendez la mention "
          "« Vérifié », puis envoyez le formulaire de nouveau.",
}


def post(client, page, payload, language="en"):
    client.set_cookie("passerelle_lang", language)
    data = {"csrf_token": csrf_token(client.get(page).text)}
    if payload is not None:
        data["altcha"] = payload
    return client.post(page, data=data)


def widget_strings(html: str) -> dict:
    attribute = re.search(r"strings='([^']*)'", html).group(1)
    return json.loads(unescape(attribute))


# The challenge endpoint.


def test_the_challenge_endpoint_gives_a_fresh_uncached_challenge(client):
    response = client.get("/robot/challenge")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    challenge = response.get_json()
    assert set(challenge) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    assert challenge["algorithm"] == "SHA-256" and challenge["maxnumber"] == 1000
    assert client.get("/robot/challenge").get_json()["challenge"] != challenge["challenge"]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_challenge_endpoint_only_answers_get(client, method):
    assert getattr(client, method)("/robot/challenge").status_code == 405


@pytest.mark.settings(ROBOT_CHECK_RATE_LIMIT="3 per minute")
def test_the_challenge_endpoint_is_rate_limited_per_address(client):
    assert [client.get("/robot/challenge").status_code for _ in range(4)] == [200, 200, 200, 429]
    other = client.get("/robot/challenge", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


@pytest.mark.settings(ROBOT_CHECK_ENABLED=False)
def test_the_challenge_endpoint_is_gone_when_the_check_is_off(client):
    assert client.get("/robot/challenge").status_code == 404


# The macro.


def test_the_page_renders_the_self_hosted_widget_with_instructions(client, page):
    client.set_cookie("passerelle_lang", "en")
    html = client.get(page).text
    widget = re.search(r"<altcha-widget[^>]*>", html).group(0)
    assert 'challengeurl="/robot/challenge"' in widget and 'name="altcha"' in widget
    assert "hidelogo" in widget and "hidefooter" in widget
    assert '<script type="module" src="/static/vendor/altcha/altcha.js"></script>' in html
    assert '/static/vendor/altcha/altcha.css' in html
    assert "<legend class=\"label\">Confirm you are not a robot</legend>" in html
    assert "Check the box." in html and 'id="altcha-hint"' in html
    assert "<noscript>" in html and "This check needs JavaScript" in html
    assert 'href="/help#not-a-robot">Get help with the check</a>' in html
    assert 'aria-describedby="altcha-hint"' in html
    # The widget posts its own hidden input; WTForms must not add an empty one with the name.
    assert not re.search(r'<input[^>]*name="altcha"', html)
    assert "http://" not in widget and "https://" not in widget  # nothing from a third party
    strings = widget_strings(html)
    assert strings["label"] == "I am not a robot" and strings["verified"] == "Verified"
    assert strings["footer"] == ""


HELP_SECTION = {
    "en": (
        "The “I am not a robot” check does not work",
        ("Turn on JavaScript", "Try another up-to-date browser", "wait a few minutes, then reload the page"),
    ),
    "fr": (
        "La vérification « Je ne suis pas un robot » ne fonctionne pas",
        ("Activez JavaScript", "Essayez un autre navigateur à jour", "attendez quelques minutes, puis rechargez la page"),
    ),
}


@pytest.mark.parametrize(("locale", "heading", "advice"), [(locale, *text) for locale, text in HELP_SECTION.items()])
def test_the_help_link_leads_to_what_to_do_when_the_check_fails(client, page, locale, heading, advice):
    client.set_cookie("passerelle_lang", locale)
    link = re.search(r'robot-check__trouble">.*?<a href="([^"]+)"', client.get(page).text, re.S).group(1)
    path, _, anchor = link.partition("#")
    help_page = unescape(client.get(path).text)
    section = re.search(rf'<h2 id="{anchor}">(.*?)</h2>(.*?)<h2', help_page, re.S)
    assert section, f"no section #{anchor} on {path}"
    assert section.group(1) == heading
    assert all(words in section.group(2) for words in advice)


def robot_help_section(client) -> str:
    return unescape(client.get("/help").text).partition('id="not-a-robot"')[2].partition("<h2")[0]


@pytest.mark.settings(
    SUPPORT_EMAIL="aide@example.ca", SUPPORT_PHONE="1-800-555-0199", TERMS_CONTACT_EMAIL="legal@example.ca"
)
def test_the_help_section_gives_the_configured_support_contact(client):
    client.set_cookie("passerelle_lang", "en")
    section = robot_help_section(client)
    assert "Still stuck? Contact us" in section
    assert 'by email: <a href="mailto:aide@example.ca">aide@example.ca</a>' in section
    assert "by telephone: 1-800-555-0199" in section and "legal@example.ca" not in section


@pytest.mark.settings(TERMS_CONTACT_EMAIL="contact@example.ca")
def test_the_help_section_falls_back_to_the_operator_contact(client):
    client.set_cookie("passerelle_lang", "fr")
    section = robot_help_section(client)
    assert 'par courriel : <a href="mailto:contact@example.ca">contact@example.ca</a>' in section
    assert "par téléphone" not in section


def test_without_a_contact_the_help_section_names_who_can_help(client):
    client.set_cookie("passerelle_lang", "en")
    section = robot_help_section(client)
    assert "Contact the organization that invited you, or the service you were signing in to" in section
    assert "mailto:" not in section


def test_the_widget_speaks_french(client, page):
    client.set_cookie("passerelle_lang", "fr")
    html = client.get(page).text
    strings = widget_strings(html)
    assert strings["label"] == "Je ne suis pas un robot"
    assert strings["error"] == "La vérification n’a pas fonctionné. Cochez la case pour réessayer."
    assert "Confirmez que vous n’êtes pas un robot" in html
    assert "Cette vérification a besoin de JavaScript" in html


# check_robot() in a view.


def test_a_solved_challenge_passes(client, page):
    response = post(client, page, solve_robot_check(client))
    assert response.status_code == 200 and response.text == "passed"


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("payload", [None, "", "garbage", "e30="])
def test_a_missing_or_bad_answer_gets_the_translated_message(client, page, payload, language):
    response = post(client, page, payload, language)
    assert response.status_code == 422
    message = CHECK_AGAIN[language]
    text = " ".join(unescape(response.text).split())
    assert f'<a href="#altcha">{message}</a>' in text  # the error summary links to the group
    assert '<p class="error-message" id="altcha-error"> <span class="visually-hidden">' in text
    assert 'id="altcha" tabindex="-1"' in response.text
    assert 'aria-describedby="altcha-hint altcha-error"' in response.text


def test_an_answer_is_accepted_only_once(client, page):
    payload = solve_robot_check(client)
    assert post(client, page, payload).status_code == 200
    assert post(client, page, payload).status_code == 422


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_answer_spent_on_a_failed_form_is_refused_the_second_time(client, page, language):
    """The form failed on another field and committed nothing; its answer is still spent."""
    client.set_cookie("passerelle_lang", language)
    path = page + "-and-name"
    payload = solve_robot_check(client)
    first = client.post(path, data={"csrf_token": csrf_token(client.get(path).text), "altcha": payload})
    assert first.status_code == 422 and CHECK_AGAIN[language] not in unescape(first.text)
    second = client.post(path, data={"csrf_token": csrf_token(client.get(path).text), "altcha": payload,
                                     "name": "Zoé"})
    assert second.status_code == 422 and CHECK_AGAIN[language] in " ".join(unescape(second.text).split())
    third = client.post(path, data={"csrf_token": csrf_token(client.get(path).text), "name": "Zoé",
                                    "altcha": solve_robot_check(client)})
    assert third.text == "passed"


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.settings(RATELIMIT_ENABLED=False)
def test_cant_sign_in_refuses_an_answer_spent_on_a_failed_request(client, language):
    """ "Can't sign in?" with a malformed address fails after the check; the answer stays spent."""
    client.set_cookie("passerelle_lang", language)
    payload = solve_robot_check(client)

    def ask(address):
        token = csrf_token(client.get("/signin/help").text)
        return client.post("/signin/help", data={"csrf_token": token, "email": address, "altcha": payload})

    first = ask("zoe@@example")
    assert first.status_code == 422 and CHECK_AGAIN[language] not in unescape(first.text)
    second = ask("zoe@example.ca")
    assert second.status_code == 422 and CHECK_AGAIN[language] in " ".join(unescape(second.text).split())


def test_an_answer_submitted_after_the_challenge_expired_is_refused(client, page, clock):
    payload = solve_robot_check(client)
    clock.advance(seconds=601)
    assert post(client, page, payload).status_code == 422
    assert post(client, page, solve_robot_check(client)).status_code == 200


def test_a_tampered_answer_is_refused(client, page):
    challenge = fetch_robot_challenge(client)
    forged = solve({**challenge, "signature": "0" * 64})
    assert post(client, page, forged).status_code == 422


def test_a_huge_answer_is_refused_without_a_server_error(client, page):
    assert post(client, page, "A" * 40_000).status_code in (413, 422)


@pytest.mark.settings(ROBOT_CHECK_ENABLED=False)
def test_with_the_check_off_the_macro_renders_nothing_and_forms_pass(client, page):
    html = client.get(page).text
    assert "altcha-widget" not in html and "altcha.js" not in html
    assert post(client, page, None).text == "passed"
