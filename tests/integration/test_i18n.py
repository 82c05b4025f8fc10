"""Language selection: ui_locales, then the language cookie, then Accept-Language (issue 2).

The selector is exercised inside real request contexts of the app, as Flask-Babel calls it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

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

# PKCE, which every client must send (issue 9 item 7): RFC 7636 Appendix B's S256 challenge.
PKCE_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
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
        "code_challenge": PKCE_CHALLENGE, "code_challenge_method": "S256",
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
        "code_challenge": PKCE_CHALLENGE, "code_challenge_method": "S256",
    }
    client.get("/authorize", query_string=query)

    toggled = client.get("/language/fr", query_string={"next": "/signin"})
    page = client.get(toggled.headers["Location"])

    assert toggled.status_code == 303
    assert '<html lang="fr">' in page.text
    assert "<h1>Ouvrir une session</h1>" in page.text


# --- Error pages speak only French in French (issue 9, items 18 and 21) -------------------

# Words that are never French: one of them in a French page's text is an English passage.
ENGLISH_WORDS = re.compile(
    r"\b(the|is|not|by|of|and|to|with|was|this|your|you|please|cannot|request|invalid|missing|"
    r"supported|error|redirect|parameter|does|exist|server|found|allowed|too|many)\b",
    re.IGNORECASE,
)
# Elements whose text is not prose in the page's language: code identifiers, and the
# language toggle (marked lang="en"), which are skipped with everything inside them.
SKIPPED_TAGS = {"code", "script", "style"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _VisibleText(HTMLParser):
    """The text a person reads (title included), minus code and foreign-language elements."""

    def __init__(self, locale: str) -> None:
        super().__init__()
        self.locale = locale
        self.skipping: list[str] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID_TAGS:
            return
        lang = dict(attrs).get("lang")
        if self.skipping or tag in SKIPPED_TAGS or (lang and lang != self.locale):
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.chunks.append(" ".join(data.split()))


def visible_text(html: str, locale: str) -> list[str]:
    parser = _VisibleText(locale)
    parser.feed(html)
    return parser.chunks


def assert_only_french(french_html: str, english_html: str, what: str) -> None:
    """No English word in the French page, and no sentence of the English page in it."""
    assert '<html lang="fr">' in french_html, what
    french = visible_text(french_html, "fr")
    english_words = [(chunk, found.group(0)) for chunk in french if (found := ENGLISH_WORDS.search(chunk))]
    assert not english_words, f"{what}: English in the French page: {english_words}"
    sentences = {chunk for chunk in visible_text(english_html, "en") if len(chunk.split()) >= 3}
    assert not sentences & set(french), f"{what}: untranslated: {sorted(sentences & set(french))}"


def both_languages(get) -> tuple[str, str]:
    """(French, English) HTML of the same request, made once per language cookie."""
    pages = []
    for locale in ("fr", "en"):
        response = get(locale)
        assert response.status_code >= 400 and response.mimetype == "text/html", (response.status_code, response.mimetype)
        pages.append(response.get_data(as_text=True))
    return pages[0], pages[1]


def _status_pages():
    from idp.web.errors import PAGES

    return sorted(PAGES)


@pytest.mark.parametrize("status", _status_pages())
def test_each_error_page_is_all_french_in_french(app, status):
    """Every status page the app can show (idp/web/errors.py PAGES), as error_response renders it."""
    from idp.web.errors import error_response

    def render(locale):
        with app.test_request_context("/somewhere", headers={"Cookie": f"{COOKIE}={locale}"}):
            body, code, _headers = error_response(status)
            return app.response_class(body, status=code, mimetype="text/html")

    french, english = both_languages(render)
    assert_only_french(french, english, f"the {status} page")


def test_the_expired_form_page_is_all_french_in_french(app):
    from idp.web.errors import CSRF_PAGE, error_response

    def render(locale):
        with app.test_request_context("/somewhere", headers={"Cookie": f"{COOKIE}={locale}"}):
            body, code, _headers = error_response(400, page=CSRF_PAGE)
            return app.response_class(body, status=code, mimetype="text/html")

    french, english = both_languages(render)
    assert_only_french(french, english, "the expired form page")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/no-such-page", 404), ("DELETE", "/help", 405), ("GET", "/authorize/resume", 400)],
)
def test_real_error_responses_are_all_french_in_french(client, method, path, status):
    def get(locale):
        client.set_cookie(COOKIE, locale)
        return client.open(path, method=method)

    french, english = both_languages(get)
    assert get("fr").status_code == status
    assert_only_french(french, english, f"{method} {path}")


CALLBACK = "https://rp.example.ca/callback"

# Authorization requests refused before the redirect URI is trusted: a page, never a
# redirect (RFC 6749 §4.1.2.1). Each is the query of /authorize; {client} is a real client.
BAD_AUTHORIZATION_REQUESTS = {
    "unknown client": "response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=openid",
    "no client_id": "response_type=code&redirect_uri=https%3A%2F%2Frp.example.ca%2Fcallback&scope=openid",
    "unregistered redirect_uri": "response_type=code&client_id={client}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=openid",
    "no redirect_uri": "response_type=code&client_id={client}&scope=openid",
    "repeated client_id": "response_type=code&client_id={client}&client_id={client}&redirect_uri=https%3A%2F%2Frp.example.ca%2Fcallback&scope=openid",
    "parameter too long": "response_type=code&client_id={client}&redirect_uri=https%3A%2F%2Frp.example.ca%2Fcallback&scope=openid&state=" + "s" * 5000,
    "characters not allowed": "response_type=code%E2%80%AE&client_id={client}&redirect_uri=https%3A%2F%2Frp.example.ca%2Fcallback&scope=openid",
}


@pytest.mark.parametrize("name", sorted(BAD_AUTHORIZATION_REQUESTS))
def test_authorization_error_pages_are_all_french_in_french(app, client, name):
    """Authlib's English error_description never reaches a French page (WCAG 3.1.2)."""
    query = BAD_AUTHORIZATION_REQUESTS[name].format(client=registered_client(app, CALLBACK))

    def get(locale):
        client.set_cookie(COOKIE, locale)
        return client.get(f"/authorize?{query}")

    french, english = both_languages(get)
    assert_only_french(french, english, f"the {name} page")
    assert "Cette demande ne peut pas être traitée" in french


def test_the_unregistered_redirect_uri_page_says_so_in_french(app, client):
    query = BAD_AUTHORIZATION_REQUESTS["unregistered redirect_uri"].format(client=registered_client(app, CALLBACK))
    client.set_cookie(COOKIE, "fr")

    text = " ".join(visible_text(client.get(f"/authorize?{query}").get_data(as_text=True), "fr"))

    assert "is not supported by client" not in text and "evil.example" not in text
    assert "une adresse qu’il n’a pas enregistrée" in text


def test_the_error_page_explains_each_authlib_error_in_its_own_words(app):
    """Unknown descriptions fall back to a translated sentence per error code, never to Authlib's."""
    from idp.oidc.error_messages import DEFAULT, FALLBACK, explain

    with app.test_request_context("/"):
        explained = {
            explain("invalid_request", "Redirect URI https://x/cb is not supported by client."),
            explain("invalid_request", "Missing 'redirect_uri' in request."),
            explain("invalid_client", "The client does not exist on this server."),
            explain("invalid_client", "Missing 'client_id' parameter."),
        }
        assert len(explained) == 4
        assert explain("invalid_request", "Something Authlib says one day.") == str(FALLBACK["invalid_request"])
        assert explain("temporarily_unavailable", "Try later.") == str(DEFAULT)
