"""The catalogs are complete and current, and every template renders in both languages.

design.md, Tests: the fr and en catalogs have no empty or fuzzy entries; the committed .pot
matches a fresh extraction; every template renders in fr and en and has a title.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from idp.i18n import LOCALES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
POT = TRANSLATIONS / "messages.pot"

# The documented extraction command (translations/babel.cfg), minus its output path.
EXTRACT_ARGS = ["extract", "-F", "translations/babel.cfg", "--omit-header", "-k", "lazy_gettext", "-k", "_l"]

PLACEHOLDER = re.compile(r"%\([a-z_][a-z0-9_]*\)[sdif]|%[sdif]|\{[a-z_][a-z0-9_]*\}", re.IGNORECASE)
HTML_TAG = re.compile(r"<[^>]*>")


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def catalog_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def message_keys(catalog: Catalog) -> set[tuple]:
    """(context, msgid, plural msgid) of every live message; the header has the empty id."""
    keys = set()
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, (list, tuple)):
            keys.add((message.context, message.id[0], message.id[1]))
        else:
            keys.add((message.context, message.id, None))
    return keys


def translations_of(catalog: Catalog):
    for message in catalog:
        if message.id:
            yield message


def ids_of(message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def strings_of(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


@pytest.fixture(scope="module")
def template() -> Catalog:
    return read_catalog(POT)


@pytest.fixture(scope="module", params=LOCALES)
def catalog(request) -> tuple[str, Catalog]:
    path = catalog_path(request.param)
    assert path.is_file(), f"missing catalog {path.relative_to(ROOT)}: run pybabel init (see babel.cfg)"
    return request.param, read_catalog(path, locale=request.param)


def test_committed_template_matches_a_fresh_extraction(tmp_path, monkeypatch, template):
    """Every translatable string in the code is in messages.pot, and nothing stale remains."""
    monkeypatch.chdir(ROOT)
    fresh_path = tmp_path / "fresh.pot"
    CommandLineInterface().run(["pybabel", "-q", *EXTRACT_ARGS, "-o", str(fresh_path), "."])
    fresh = read_catalog(fresh_path)

    missing = message_keys(fresh) - message_keys(template)
    stale = message_keys(template) - message_keys(fresh)

    assert not missing and not stale, (
        "translations/messages.pot is out of date; re-extract (see translations/babel.cfg).\n"
        f"Not yet in the .pot: {sorted(k[1] for k in missing)}\nNo longer in the code: {sorted(k[1] for k in stale)}"
    )


def test_committed_template_has_no_header():
    """Extracted with --omit-header, so re-extraction does not churn dates and versions."""
    text = POT.read_text(encoding="utf-8")
    assert 'msgid ""\nmsgstr ""\n"' not in text
    assert "POT-Creation-Date" not in text


def test_template_is_not_empty(template):
    """A broken extraction (wrong babel.cfg, keywords) would leave nothing to translate."""
    assert len(message_keys(template)) > 20


def test_catalog_has_every_message_of_the_template(catalog, template):
    locale, messages = catalog
    missing = message_keys(template) - message_keys(messages)
    extra = message_keys(messages) - message_keys(template)
    assert not missing, f"{locale}: not in the catalog, run pybabel update: {sorted(k[1] for k in missing)}"
    assert not extra, f"{locale}: no longer in the code, run pybabel update: {sorted(k[1] for k in extra)}"


def test_catalog_has_no_empty_or_fuzzy_entry(catalog):
    locale, messages = catalog
    fuzzy = [message.id for message in translations_of(messages) if message.fuzzy]
    empty = [message.id for message in translations_of(messages) if not all(s.strip() for s in strings_of(message))]
    assert not fuzzy, f"{locale}: fuzzy entries: {fuzzy}"
    assert not empty, f"{locale}: untranslated entries: {empty}"


def test_catalog_header_is_not_fuzzy(catalog):
    """gettext ignores a fuzzy header, and with it the plural forms."""
    locale, messages = catalog
    assert not messages.fuzzy, f"{locale}: the catalog header is marked fuzzy"


def test_catalog_passes_babel_checks(catalog):
    """Babel's checkers: python-format placeholders agree, plural forms have the right count."""
    locale, messages = catalog
    problems = [(message.id, [str(error) for error in errors]) for message, errors in messages.check()]
    assert not problems, f"{locale}: {problems}"


def test_translation_keeps_every_placeholder(catalog):
    """{name} and %(name)s placeholders are filled in by the code: each must survive translation."""
    locale, messages = catalog
    wrong = []
    for message in translations_of(messages):
        wanted = sorted(PLACEHOLDER.findall(ids_of(message)[-1]))
        for string in strings_of(message):
            if sorted(PLACEHOLDER.findall(string)) != wanted:
                wrong.append((message.id, string))
    assert not wrong, f"{locale}: placeholders differ: {wrong}"


def test_english_catalog_repeats_the_english_source():
    """msgids are English sentences; the en catalog is complete by repeating them."""
    messages = read_catalog(catalog_path("en"), locale="en")
    different = [message.id for message in translations_of(messages) if strings_of(message) != ids_of(message)]
    assert not different, f"en: translations that differ from their msgid: {different}"


def test_french_uses_guillemets_not_straight_quotes():
    """Canada.ca French style: « » around quotations, never straight double quotes in text."""
    messages = read_catalog(catalog_path("fr"), locale="fr")
    straight = [
        string for message in translations_of(messages) for string in strings_of(message) if '"' in HTML_TAG.sub("", string)
    ]
    assert not straight, f"fr: use « » instead of straight quotes: {straight}"


def test_french_catalog_is_actually_french():
    """A catalog copied from English would pass every other check."""
    messages = read_catalog(catalog_path("fr"), locale="fr")
    entries = list(translations_of(messages))
    same = [message.id for message in entries if strings_of(message) == ids_of(message)]
    # Proper names and codes ("Passerelle", "OpenID Connect") may stay as they are.
    assert len(same) <= max(3, len(entries) // 20), f"fr: too many entries left in English: {same}"


# --- Every template renders in both languages, with a title -------------------------------

DEMO_RP_PREFIX = "clients/demo_rp/"
# Layouts: their own title block is empty by design; pages that extend them fill it.
PORTAL_PREFIX = "clients/institution_portal/"
LAYOUTS = {"base.html", "clients/demo_rp/base.html", "clients/institution_portal/base.html",
           "clients/document_portal/base.html", "clients/portal_kit/base.html"}
DOCUMENT_PORTAL_PREFIX = "clients/document_portal/"
TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)
HTML_LANG = re.compile(r"<html[^>]*\blang=\"([^\"]*)\"")
# What base layouts append to every page's own title ("Sign in – Passerelle").
TITLE_SUFFIX = re.compile(r"\s*–\s*[^–]*$")


def _idp_contexts() -> dict:
    """Minimal context for each IdP template that needs one, built inside a request."""
    from types import SimpleNamespace

    from idp.accounts.models import User
    from idp.signin.forms import ConsentForm, SigninForm, SignoutForm
    from idp.signin.scopes import describe_scopes
    from idp.web.errors import PAGES
    from tests.console_support import console_template_contexts
    from tests.federation_support import federation_template_contexts
    from tests.invitations_support import invitation_email_contexts
    from tests.mfa_support import mfa_template_contexts
    from tests.orgs_support import organization_email_contexts, organization_page_contexts, organization_summary
    from tests.recovery_support import recovery_template_contexts
    from tests.registration_support import registration_template_contexts

    return {
        "accounts/account.html": lambda: {
            "user": User(given_name="Ana", family_name="Tremblay", email="ana@example.ca", phone_number=None),
            "form": SignoutForm(),
            "organizations": [organization_summary()],
            "connected_services": ["Portail des documents"],
        },
        # Single sign-out (issue 14): the confirmation, and a signed-out page with an iframe.
        "accounts/sign_out_everywhere.html": lambda: {"form": SignoutForm()},
        "accounts/signed_out_everywhere.html": lambda: {"frontchannel_frames": ["https://rp.example.ca/fc?sid=s1d"]},
        "oidc/signed_out.html": lambda: {"frontchannel_frames": ["https://rp.example.ca/fc?sid=s1d"],
                                         "continue_to": "https://rp.example.ca/signed-out?state=st4te"},
        "errors/error.html": lambda: {"status": 404, "title": PAGES[404][0], "message": PAGES[404][1]},
        "oidc/error.html": lambda: {"error": "invalid_request", "description": "redirect_uri is not registered"},
        "oidc/form_post.html": lambda: {"action": "https://rp.example.ca/callback", "values": [("code", "c0de"), ("state", "st4te")]},
        "signin/consent.html": lambda: {
            "form": ConsentForm(),
            "client": SimpleNamespace(name="Portail des documents"),
            "scopes": describe_scopes("openid profile email phone address offline_access custom"),
        },
        "signin/password.html": lambda: {"form": SigninForm()},
        "signin/signout.html": lambda: {"form": SignoutForm(), "is_signed_in": True},
        **_mail_layout_contexts(),
        **_signin_step_contexts(),
        **invitation_email_contexts(),
        **registration_template_contexts(),
        **recovery_template_contexts(),
        **mfa_template_contexts(),
        **federation_template_contexts(),
        **organization_email_contexts(),
        **organization_page_contexts(),
        **console_template_contexts(),
    }


def _mail_layout_contexts() -> dict:
    """The layout every email extends (idp/mail/delivery.py render_email gives these)."""
    from flask_babel import get_locale

    from idp.web.text import EMAIL_TEXT

    def layout():
        return {"locale": str(get_locale()), "email_text": EMAIL_TEXT, "help_url": "http://127.0.0.1:5000/help"}

    return {
        "email/_base/body.html": layout,
        "email/_base/body.txt": layout,
        "email/_base/button.html": lambda: {"button_url": "http://127.0.0.1:5000/x", "button_label": "Open"},
    }


def _signin_step_contexts() -> dict:
    """The emailed code and terms steps (idp/mfa, idp/terms)."""
    from idp.accounts.forms import UnlockForm
    from idp.mfa.forms import EmailCodeForm, ResendCodeForm
    from idp.terms.forms import TermsDecisionForm
    from idp.terms.services import TermsVersionInfo

    def terms_step() -> dict:
        return {
            "form": TermsDecisionForm(),
            "version_info": TermsVersionInfo("2026-11", None, True, True),
            "is_update": True,
            "terms_template": "terms/2026-11/terms.en.html",
            "privacy_template": "terms/2026-11/privacy.fr.html",
        }

    def email(**extra):
        from flask_babel import get_locale

        from idp.web.text import EMAIL_TEXT

        return lambda: {
            "issuer": "http://127.0.0.1:5000", "help_url": "http://127.0.0.1:5000/help",
            "locale": str(get_locale()), "email_text": EMAIL_TEXT, "given_name": "Ana",
            "cant_sign_in_url": "http://127.0.0.1:5000/signin/help", **extra,
        }

    names = ("subject.txt", "body.txt", "body.html")
    return {
        **{f"email/signin-code/{name}": email(code="123456", minutes=3) for name in names},
        **{f"email/account-locked/{name}": email(minutes=15, locked_until="2026-11-23T19:15:00+00:00") for name in names},
        **{f"email/account-unlock/{name}": email(unlock_url="http://127.0.0.1:5000/signin/unlock/t0ken", ttl_days=7) for name in names},
        "accounts/unlock.html": lambda: {"form": UnlockForm(), "token": "t0ken"},
        "accounts/unlock_invalid.html": lambda: {"message": "This link does not work."},
        "mfa/email_code.html": lambda: {
            "form": EmailCodeForm(), "resend_form": ResendCodeForm(), "masked_email": "a***@example.ca",
            "minutes": 3, "problem": None, "notice": "sent",
        },
        "terms/accept.html": terms_step,
    }


def _demo_rp_contexts() -> dict:
    return {
        "clients/demo_rp/home.html": lambda: {"signed_in": False},
        "clients/demo_rp/claims.html": lambda: {
            "claims": {"sub": "abc", "iss": "http://127.0.0.1:5000"},
            "userinfo": {"sub": "abc", "given_name": "Ana"},
            "expires_in": 600,
            "scope": "openid profile",
            "has_refresh_token": True,
        },
        "clients/demo_rp/error.html": lambda: {"message": "state mismatch"},
    }


def _portal_contexts() -> dict:
    """The institution portal's pages (clients/institution_portal), as its views render them."""
    from types import SimpleNamespace

    from clients.institution_portal.auth.forms import SigninChoiceForm, SignoutForm
    from clients.institution_portal.terms.forms import TermsForm
    from tests.institution_portal_mail_support import home_reporting
    from tests.institution_portal_api_support import users_and_letters_contexts
    from tests.institution_portal_reports_support import reports_contexts

    person = SimpleNamespace(organization_number="O123456789012", role="primary")
    return {
        f"{PORTAL_PREFIX}login.html": lambda: {"form": SigninChoiceForm()},
        f"{PORTAL_PREFIX}home.html": lambda: {"person": person, "institution_name": "Collège Imaginaire",
                                             "signout_form": SignoutForm(), "reporting": home_reporting()},
        f"{PORTAL_PREFIX}terms.html": lambda: {"form": TermsForm(), "version": "2026-12", "accepted": False},
        f"{PORTAL_PREFIX}refused.html": lambda: {"message": "", "code": "access_denied", "two_factor": True},
        f"{PORTAL_PREFIX}error.html": lambda: {"kind": "not_found"},
        **users_and_letters_contexts(PORTAL_PREFIX),
        **reports_contexts(PORTAL_PREFIX),
    }


@functools.cache
def portal_app():
    from clients.institution_portal import create_app

    return create_app({
        "PORTAL_ENV": "development", "PORTAL_ISSUER": "http://127.0.0.1:5000", "PORTAL_CLIENT_ID": "institution-portal",
        "PORTAL_CLIENT_SECRET": "test", "PORTAL_BASE_URL": "http://127.0.0.1:5003", "PORTAL_SECRET_KEY": "t" * 32,
        "PORTAL_DATABASE_URL": "sqlite://",
    }, environ={})


def all_templates() -> list[str]:
    templates = ROOT / "templates"
    return sorted(str(path.relative_to(templates)) for path in templates.rglob("*") if path.is_file())


@pytest.fixture(scope="module")
def idp_app(tmp_path_factory):
    from tests.catalogs import compile_catalogs
    from tests.conftest import build_app
    from tests.support import FrozenClock

    compile_catalogs()
    database = tmp_path_factory.mktemp("templates") / "templates.sqlite3"
    return build_app(f"sqlite:///{database}", FrozenClock())


@pytest.fixture(scope="module")
def demo_rp_app():
    from clients.demo_rp import create_app

    return create_app(
        "http://127.0.0.1:5000", "demo-client", "demo-secret", "http://127.0.0.1:5001/callback", secret_key="test"
    )


def render(idp_app, demo_rp_app, name: str, locale: str) -> str:
    """Render one template the way its app does, in one language."""
    from flask import render_template

    if name.startswith(DOCUMENT_PORTAL_PREFIX):
        from tests.document_portal_templates import render_document_portal

        return render_document_portal(name, locale)
    if name.startswith(f"{PORTAL_PREFIX}email/"):
        from tests.institution_portal_mail_support import render_portal_email

        return render_portal_email(name.removeprefix(f"{PORTAL_PREFIX}email/"), locale)
    if name == "clients/portal_kit/base.html":  # the portals' shared layout, as a portal renders it
        from clients.portal_kit.web import render_page

        with portal_app().test_request_context("/", headers={"Accept-Language": locale}):
            return render_page(name, 200, help_url="/help", issuer="http://127.0.0.1:5000", signed_in=False)[0]
    if name.startswith(PORTAL_PREFIX):
        from clients.institution_portal.web import page

        with portal_app().test_request_context("/", headers={"Accept-Language": locale}):
            return page(name.removeprefix(PORTAL_PREFIX), **_portal_contexts().get(name, dict)())[0]
    if name.startswith(DEMO_RP_PREFIX):
        with demo_rp_app.test_request_context("/", headers={"Accept-Language": locale}):
            context = _demo_rp_contexts().get(name, dict)()
            other = "en" if locale == "fr" else "fr"
            return render_template(name, locale=locale, other_locale=other, **context)
    with idp_app.test_request_context("/", query_string={"ui_locales": locale}):
        context = _idp_contexts().get(name, dict)()
        return render_template(name, **context)


def page_title(html: str) -> str:
    match = TITLE.search(html)
    return " ".join(match.group(1).split()) if match else ""


def test_templates_are_found():
    assert "base.html" in all_templates()
    assert "signin/password.html" in all_templates()


def test_every_template_context_names_a_real_template():
    """A renamed template must not leave its context behind, silently untested."""
    known = set(all_templates())
    assert set(_idp_contexts()) | set(_demo_rp_contexts()) | set(_portal_contexts()) <= known


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", all_templates())
def test_template_renders_with_a_title(idp_app, demo_rp_app, name, locale):
    html = render(idp_app, demo_rp_app, name, locale)

    if is_fragment(name) or not name.endswith(".html"):
        assert is_fragment(name) or html.strip(), f"{name} rendered nothing"
        return
    assert HTML_LANG.search(html) and HTML_LANG.search(html).group(1) == locale, f"{name}: <html lang> is not {locale}"
    title = page_title(html)
    assert title, f"{name} ({locale}) has an empty <title>"
    if name not in LAYOUTS:
        assert TITLE_SUFFIX.sub("", title).strip(), f"{name} ({locale}): the page's own title is empty: {title!r}"


def is_fragment(name: str) -> bool:
    """Macros and partials live in "_" folders or files; they are not pages."""
    return any(part.startswith("_") for part in name.split("/"))


@pytest.mark.parametrize("name", [n for n in all_templates() if n.endswith(".html") and n not in LAYOUTS and not is_fragment(n)])
def test_page_title_is_translated(idp_app, demo_rp_app, name):
    """The French title differs from the English one: the catalogs are compiled and used."""
    french = render(idp_app, demo_rp_app, name, "fr")
    english = render(idp_app, demo_rp_app, name, "en")
    assert page_title(french) != page_title(english), f"{name}: same title in French and English: {page_title(french)!r}"


JINJA_COMMENT = re.compile(r"{#.*?#}", re.DOTALL)
TRANSLATABLE = re.compile(r"{%-?\s*trans\b|\b_\(|\bgettext\(")


def test_no_translatable_text_in_underscore_folders():
    """Babel skips folders whose names start with "_": text there would never be translated."""
    hidden = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*")
        if path.is_file()
        and any(part.startswith("_") for part in path.relative_to(ROOT / "templates").parts[:-1])
        and TRANSLATABLE.search(JINJA_COMMENT.sub("", path.read_text(encoding="utf-8")))
    ]
    assert not hidden, f"translatable text Babel will not extract: {hidden}"
