"""NewPasswordForm, check_new_password_fields and the new_password_fields macro, through a
page registered only in these tests (the real pages are registration, reset and change)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import Blueprint, render_template_string

from idp.accounts.forms import NewPasswordForm, check_new_password_fields
from idp.accounts.views import get_account_service
from tests.oidc_support import csrf_token

GOOD = "Tulipe-Orange-42-Ciel"
PAGE = """{% extends "base.html" %}
{% from "_macros/forms.html" import error_summary, page_title %}
{% from "_macros/password.html" import new_password_fields %}
{% block title %}{{ page_title('New password', form) }}{% endblock %}
{% block content %}
{{ error_summary(form) }}
<h1>New password</h1>
<form method="post" novalidate>
  {{ form.csrf_token }}
  {{ new_password_fields(form.password, form.confirm_password) }}
  <button type="submit" class="button">Save</button>
</form>
{% endblock %}"""


@pytest.fixture
def page(app):
    bp = Blueprint("password_test", __name__)

    @bp.route("/test/new-password", methods=["GET", "POST"])
    def new_password():
        form = NewPasswordForm()
        if form.validate_on_submit() and check_new_password_fields(
            form, get_account_service(), email="ana.tremblay@example.ca", given_name="Ana", family_name="Tremblay"
        ):
            return "saved"
        return render_template_string(PAGE, form=form), 422 if form.errors else 200

    app.register_blueprint(bp)
    return "/test/new-password"


def post(client, page, password, confirm=None, language="en"):
    client.set_cookie("passerelle_lang", language)
    token = csrf_token(client.get(page).text)
    return client.post(page, data={"csrf_token": token, "password": password,
                                   "confirm_password": password if confirm is None else confirm})


def field_errors(html: str, field_id: str) -> list[str]:
    """The messages shown under one field (not in the summary), as text."""
    block = re.search(rf'<div id="{field_id}-error">(.*?)</div>', html, re.S)
    if block:
        parts = re.findall(r'<p class="error-message">(.*?)</p>', block.group(1), re.S)
    else:
        single = re.search(rf'<p class="error-message" id="{field_id}-error">(.*?)</p>', html, re.S)
        parts = [single.group(1)] if single else []
    return [" ".join(unescape(re.sub(r'<span class="visually-hidden">.*?</span>', "", part)).split()) for part in parts]


def test_the_page_shows_every_rule_tied_to_the_password_input(client, page):
    client.set_cookie("passerelle_lang", "en")
    html = client.get(page).text
    for label in ["Between 14 and 128 characters", "At least one special character", "At least one digit (0 to 9)",
                  "At least one uppercase letter", "At least one lowercase letter",
                  "Not a common password (checked when you submit the form)",
                  "Does not contain your name or email address (checked when you submit the form)"]:
        assert label in html
    password_input = re.search(r'<input[^>]*id="password"[^>]*>', html).group(0)
    assert 'aria-describedby="password-rules-title password-rules"' in password_input
    assert 'type="password"' in password_input and 'autocomplete="new-password"' in password_input
    assert 'data-show-label="Show password"' in password_input
    assert "maxlength" not in password_input  # a pasted long password is never cut silently
    assert 'id="password-rules"' in html and 'aria-live="polite"' in html
    assert 'data-check="length" data-min="14" data-max="128"' in html
    assert 'data-rule="common" data-check="server"' in html
    assert 'data-pattern="\\p{Nd}"' in html
    assert '<script src="/static/js/password-rules.js" defer></script>' in html
    assert 'autocomplete="new-password"' in re.search(r'<input[^>]*id="confirm_password"[^>]*>', html).group(0)


def test_the_checklist_is_in_french(client, page):
    client.set_cookie("passerelle_lang", "fr")
    html = client.get(page).text
    assert "Entre 14 et 128 caractères" in html and "Exigences du mot de passe :" in html
    assert "Au moins une lettre majuscule" in html


@pytest.mark.settings(PASSWORD_MIN_LENGTH=16, PASSWORD_REQUIRE_SPECIAL=False, PASSWORD_REJECT_COMMON=False)
def test_the_checklist_follows_the_settings(client, page):
    client.set_cookie("passerelle_lang", "en")
    html = client.get(page).text
    assert "Between 16 and 128 characters" in html
    assert "special character" not in html and "Not a common password" not in html


def test_a_good_password_is_accepted(client, page):
    response = post(client, page, GOOD)
    assert response.status_code == 200 and response.text == "saved"


@pytest.mark.parametrize(
    ("password", "messages"),
    [
        ("tulipex", ["Your password must have at least 14 characters.",
                    "Your password must have at least one special character, such as a space or one of ! ? # $ & * -.",
                    "Your password must have at least one digit (0 to 9).",
                    "Your password must have at least one uppercase letter."]),
        ("TULIPE-ORANGE-42", ["Your password must have at least one lowercase letter."]),
        ("AIrplanesfly12!@", ["This password is too common or has appeared in a data breach: "
                              "choose a password nobody else would guess."]),
        ("Tremblay-Soleil-2024", ["Your password must not contain your name, your email address or "
                                  "the name of this service."]),
        ("Aa1-" * 40, ["Your password must have no more than 128 characters."]),
    ],
)
def test_each_problem_gets_its_own_message_in_the_field_and_the_summary(client, page, password, messages):
    response = post(client, page, password)
    assert response.status_code == 422
    assert field_errors(response.text, "password") == messages
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.S).group(0)
    assert [" ".join(unescape(m).split()) for m in re.findall(r'<a href="#password">([^<]+)</a>', summary)] == messages
    assert 'aria-invalid="true"' in re.search(r'<input[^>]*id="password"[^>]*>', response.text).group(0)
    assert 'aria-describedby="password-rules-title password-rules password-error"' in response.text


def test_the_messages_are_in_french(client, page):
    response = post(client, page, "tulipex", language="fr")
    assert response.status_code == 422
    assert "Votre mot de passe doit comporter au moins 14 caractères." in response.text


def test_a_huge_password_gets_the_too_long_message_and_nothing_else(client, page):
    response = post(client, page, "Aa1-" * 300)  # 1,200 characters: over the form's cap
    assert response.status_code == 422
    assert field_errors(response.text, "password") == ["Your password must have no more than 128 characters."]


def test_different_confirmation_is_refused_on_the_confirmation_field(client, page):
    response = post(client, page, GOOD, confirm=GOOD + "x")
    assert response.status_code == 422
    assert field_errors(response.text, "confirm_password") == ["The two passwords do not match."]
    assert field_errors(response.text, "password") == []
    assert "Les deux mots de passe ne correspondent pas." in post(client, page, GOOD, GOOD + "x", "fr").text


def test_the_confirmation_may_use_another_unicode_composition(client, page):
    precomposed = "Tulipe-Orange-42-Été"
    response = post(client, page, precomposed, confirm="Tulipe-Orange-42-E\u0301te\u0301")
    assert response.text == "saved"


def test_empty_fields_ask_for_a_password(client, page):
    response = post(client, page, "", confirm="")
    assert response.status_code == 422
    assert field_errors(response.text, "password") == ["Enter a password."]
    assert field_errors(response.text, "confirm_password") == ["Enter your password again."]


def test_a_weak_password_is_not_also_reported_as_mismatched(client, page):
    response = post(client, page, "tulipex", confirm="other")
    assert field_errors(response.text, "confirm_password") == []
