"""Language selection: ui_locales, then the language cookie, then Accept-Language (issue 2).

The selector is exercised inside real request contexts of the app, as Flask-Babel calls it.
"""

from __future__ import annotations

import pytest
from flask_babel import get_locale

from idp.i18n import select_locale

COOKIE = "passerelle_lang"


def locale_for(app, path: str = "/", **request_options) -> str:
    """The language the app picks for a request built from these options (as Flask-Babel does)."""
    with app.test_request_context(path, **request_options):
        return str(get_locale())


def test_cookie_name_matches_configuration(app):
    assert app.config["LANGUAGE_COOKIE_NAME"] == COOKIE


@pytest.mark.parametrize(
    ("ui_locales", "expected"),
    [
        ("en", "en"),
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("en-CA fr-CA", "en"),
        ("de fr-CA en", "fr"),  # the first supported tag, in the client's order
    ],
)
def test_ui_locales_chooses_the_first_supported_language(app, ui_locales, expected):
    assert locale_for(app, query_string={"ui_locales": ui_locales}) == expected


def test_ui_locales_wins_over_cookie_and_accept_language(app):
    chosen = locale_for(
        app,
        query_string={"ui_locales": "en"},
        headers={"Cookie": f"{COOKIE}=fr", "Accept-Language": "fr-CA"},
    )
    assert chosen == "en"


def test_ui_locales_in_a_posted_form_counts(app):
    chosen = locale_for(
        app,
        method="POST",
        data={"ui_locales": "en"},
        headers={"Cookie": f"{COOKIE}=fr"},
    )
    assert chosen == "en"


def test_unsupported_ui_locales_falls_back_to_the_cookie(app):
    chosen = locale_for(app, query_string={"ui_locales": "de es"}, headers={"Cookie": f"{COOKIE}=en"})
    assert chosen == "en"


def test_cookie_wins_over_accept_language(app):
    chosen = locale_for(app, headers={"Cookie": f"{COOKIE}=en", "Accept-Language": "fr-CA,fr;q=0.9"})
    assert chosen == "en"


def test_unknown_cookie_value_is_ignored(app):
    chosen = locale_for(app, headers={"Cookie": f"{COOKIE}=xx", "Accept-Language": "en-CA"})
    assert chosen == "en"


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("fr-CA", "fr"),
        ("fr-CA,en;q=0.5", "fr"),
        # A regional French preferred over an exact English match of lower quality.
        ("en;q=0.5, fr-CA", "fr"),
        ("en-CA", "en"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("de-DE, fr-CA;q=0.7, en;q=0.6", "fr"),
        ("de, en;q=0.3", "en"),
        # q=0 means "not this one" (RFC 9110 §12.4.2).
        ("fr-CA;q=0, en;q=0.1", "en"),
    ],
)
def test_accept_language_picks_the_preferred_supported_language(app, accept_language, expected):
    assert locale_for(app, headers={"Accept-Language": accept_language}) == expected


@pytest.mark.parametrize("accept_language", [None, "de, es;q=0.5", "*"])
def test_default_locale_when_nothing_matches(app, accept_language):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    assert locale_for(app, headers=headers) == app.config["BABEL_DEFAULT_LOCALE"]


def test_a_view_settled_language_wins(app):
    """A view that knows the sign-in transaction's ui_locales sets g.locale for later steps."""
    from flask import g

    with app.test_request_context("/", query_string={"ui_locales": "fr"}, headers={"Cookie": f"{COOKIE}=fr"}):
        g.locale = "en"
        assert select_locale() == "en"


def test_outside_a_request_the_default_locale_is_used(app):
    with app.app_context():
        assert select_locale() == app.config["BABEL_DEFAULT_LOCALE"]


def test_an_unreadable_body_does_not_break_language_selection(app):
    """Error pages for an oversized form render through the selector: it must not raise again."""
    oversized = "ui_locales=en&x=" + "a" * (app.config["MAX_FORM_MEMORY_SIZE"] + 10)
    chosen = locale_for(
        app,
        method="POST",
        data=oversized,
        content_type="application/x-www-form-urlencoded",
        headers={"Accept-Language": "en-CA"},
    )
    assert chosen == "en"


# --- Through real pages -----------------------------------------------------------------

FRENCH_HELP = "<h1>Aide à l'ouverture de session</h1>"
ENGLISH_HELP = "<h1>Help with signing in</h1>"


@pytest.fixture(autouse=True, scope="module")
def _compiled_catalogs():
    from tests.catalogs import compile_catalogs

    compile_catalogs()


def registered_client(app, redirect_uri: str = "https://rp.example.ca/callback") -> str:
    from idp.context import app_context
    from idp.extensions import db
    from idp.oidc.clients import ClientService

    with app.app_context():
        ctx = app_context()
        client, _ = ClientService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(
            name="Portail", redirect_uris=[redirect_uri]
        )
        db.session.commit()
        return client.client_id


def test_a_page_follows_a_regional_french_preference(client):
    page = client.get("/help", headers={"Accept-Language": "en;q=0.5, fr-CA"})

    assert '<html lang="fr">' in page.text
    assert FRENCH_HELP in page.text


def test_a_page_follows_the_cookie_over_accept_language(client):
    client.set_cookie(COOKIE, "en")

    page = client.get("/help", headers={"Accept-Language": "fr-CA"})

    assert '<html lang="en">' in page.text
    assert ENGLISH_HELP in page.text


def test_ui_locales_of_an_authorization_request_carries_into_the_sign_in_page(app, client):
    """The sign-in page is another request: ui_locales reaches it through the language cookie."""
    client_id = registered_client(app)
    query = {
        "response_type": "code", "client_id": client_id, "redirect_uri": "https://rp.example.ca/callback",
        "scope": "openid", "state": "s", "nonce": "n", "ui_locales": "en-CA fr",
    }

    started = client.get("/authorize", query_string=query, headers={"Accept-Language": "fr-CA"})
    assert started.status_code == 303
    assert client.get_cookie(COOKIE).value == "en"
    page = client.get(started.headers["Location"], headers={"Accept-Language": "fr-CA"})

    assert '<html lang="en">' in page.text
    assert "<h1>Sign in</h1>" in page.text


def test_the_toggle_overrides_the_language_ui_locales_chose(app, client):
    client_id = registered_client(app)
    query = {
        "response_type": "code", "client_id": client_id, "redirect_uri": "https://rp.example.ca/callback",
        "scope": "openid", "state": "s", "nonce": "n", "ui_locales": "en",
    }
    client.get("/authorize", query_string=query)

    toggled = client.get("/language/fr", query_string={"next": "/signin"})
    page = client.get(toggled.headers["Location"])

    assert toggled.status_code == 303
    assert '<html lang="fr">' in page.text
    assert "<h1>Ouvrir une session</h1>" in page.text
