"""Words a newcomer read wrong (issue 9, item 18): each page says what is true for the person
reading it, in French as in English."""

from __future__ import annotations

import pytest
from flask import render_template

from tests.integration.mfa.test_manage import manage_page, post, signed_in, user_id  # noqa: F401 (fixtures)

COOKIE = "passerelle_lang"


@pytest.fixture(autouse=True, scope="module")
def _compiled_catalogs():
    from tests.catalogs import compile_catalogs

    compile_catalogs()


def test_the_security_key_is_the_safest_method_not_the_second_safest(app):
    from idp.mfa.forms import SecurityKeySetupForm

    with app.test_request_context("/", headers={"Cookie": f"{COOKIE}=fr"}):
        page = render_template("mfa/setup_security_key.html", form=SecurityKeySetupForm())

    assert "deuxième méthode la plus sûre" not in page
    assert "la méthode la plus sûre" in page


@pytest.mark.settings(MFA_REQUIRED=True)
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_new_recovery_codes_are_not_announced_as_a_new_set_up(client, signed_in, locale):  # noqa: F811
    client.set_cookie(COOKIE, locale)

    page = post(client, "/account/two-factor/recovery-codes", manage_page(client)).text

    assert "Two-factor authentication is set up." not in page
    assert "L’authentification à deux facteurs est configurée." not in page
    assert "L'authentification à deux facteurs est configurée." not in page
    expected = {"fr": "Vos nouveaux codes de récupération sont prêts.", "en": "Your new recovery codes are ready."}
    assert expected[locale] in page


@pytest.mark.parametrize(
    ("locale", "label", "app_words"),
    [("en", "Recovery code", ("app", "authenticator")), ("fr", "Code de récupération", ("application", "authentification"))],
)
def test_the_reset_form_speaks_of_an_app_only_to_people_who_have_one(app, locale, label, app_words):
    from types import SimpleNamespace

    from idp.recovery.forms import ResetPasswordForm

    with app.test_request_context("/", headers={"Cookie": f"{COOKIE}={locale}"}):
        page = render_template(
            "recovery/reset.html", form=ResetPasswordForm(), user=SimpleNamespace(email="ana@example.ca"),
            asks_second_factor=True, accepts_app_code=False,
        )

    second_factor = page[page.index('for="second_factor"'):page.index('id="second_factor"')]
    assert f">{label}</label>" in second_factor
    assert not any(word in second_factor.lower() for word in app_words), second_factor


@pytest.mark.parametrize(("locale", "not_given"), [("fr", "Non fourni"), ("en", "Not provided")])
def test_an_account_without_a_name_says_so_instead_of_showing_nothing(app, locale, not_given):
    """A first partner sign-in makes an account with empty names (idp/federation/services.py)."""
    from idp.accounts.models import User
    from idp.signin.forms import SignoutForm

    with app.test_request_context("/", headers={"Cookie": f"{COOKIE}={locale}"}):
        page = render_template(
            "accounts/account.html", user=User(given_name="", family_name="", email=None), form=SignoutForm(),
        )

    name_row = page[page.index("<dt>"):page.index("</dd>") + 5]
    assert not name_row.rstrip("</dd>").endswith("<dd>"), name_row
    assert not_given in name_row
