"""The account page, the language toggle and help."""

from __future__ import annotations

import pytest

from tests.integration.signin.support import SignIn, make_user


def test_the_account_page_needs_a_session(client):
    response = client.get("/account")
    assert response.status_code == 303
    assert response.headers["Location"] == "/signin"


def test_the_account_page_shows_who_is_signed_in_escaped(app, client):
    make_user(app, given_name="<script>x</script>", phone_number="+15145550100")
    browser = SignIn(client)
    browser.sign_in()
    page = client.get("/account")
    assert page.status_code == 200
    assert "&lt;script&gt;x&lt;/script&gt; Tremblay" in page.text and "<script>x" not in page.text
    assert "ana@example.ca" in page.text and "+1 514-555-0100" in page.text
    assert 'action="/signout"' in page.text


def test_the_home_page_leads_to_the_account(client):
    assert client.get("/").headers["Location"] == "/account"


def test_the_language_toggle_keeps_the_person_on_the_same_page(client):
    response = client.get("/language/en", query_string={"next": "/help?topic=a&page=2"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/help?topic=a&page=2"
    assert "passerelle_lang=en" in response.headers["Set-Cookie"]
    assert '<html lang="en">' in client.get("/help").text
    client.get("/language/fr?next=/help")
    assert '<html lang="fr">' in client.get("/help").text


def test_every_page_links_to_the_other_language_at_the_same_address(client):
    client.set_cookie("passerelle_lang", "fr")
    page = client.get("/help?x=1")
    assert 'href="/language/en?next=/help?x%3D1"' in page.text
    client.set_cookie("passerelle_lang", "en")
    assert 'href="/language/fr?next=/help?x%3D1"' in client.get("/help?x=1").text


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example", "https:evil.example", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_the_language_toggle_never_redirects_off_site(client, target):
    response = client.get("/language/en", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account"


def test_an_unsupported_language_is_not_found(client):
    assert client.get("/language/de?next=/help").status_code == 404


def test_help_exists_in_both_languages(client):
    for locale in ("fr", "en"):
        client.set_cookie("passerelle_lang", locale)
        page = client.get("/help")
        assert page.status_code == 200
        assert f'<html lang="{locale}">' in page.text
        assert "<title>" in page.text and 'href="#main"' in page.text
