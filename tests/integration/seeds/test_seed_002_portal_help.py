"""Seed 002, « Difficultés techniques »: the institution portal's help page gives the seed's
advice, in French and English (docs/seeds.md): clear the cache, then write to the
institutions' mailbox (PORTAL_SUPPORT_EMAIL) with a description, the steps taken and a
screenshot, and expect an answer within ten business days."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.institution_portal_support import build_portal, register_portal

ADVICE = {
    "fr": "Si vous éprouvez des difficultés au moment d'ouvrir votre session, videz la mémoire cache de votre "
          "navigateur et essayez de nouveau.",
    "en": "If you have trouble signing in, clear your browser's cache and try again.",
}


@pytest.fixture
def portal(live_server, tmp_path):
    return build_portal(live_server.url, register_portal(live_server.app), tmp_path / "portal.db")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_portal_help_page_gives_the_seeds_advice_on_technical_difficulties(portal, locale):
    response = portal.test_client().get("/help", headers={"Accept-Language": locale})
    assert response.status_code == 200
    assert ADVICE[locale] in " ".join(unescape(response.get_data(as_text=True)).split())


MAILBOX = {
    "fr": ["Si les difficultés techniques persistent après avoir vidé la mémoire cache de votre navigateur, "
           "écrivez à la boîte aux lettres des EED, eed-dli@example.gc.ca.",
           "Vous devriez recevoir une réponse dans les 10 jours ouvrables."],
    "en": ["If you still have technical difficulties after clearing your browser's cache, write to the "
           "institutions' mailbox, eed-dli@example.gc.ca.",
           "You should receive an answer within 10 business days."],
}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_with_a_mailbox_the_help_page_says_where_to_write_what_to_say_and_when_to_expect_an_answer(
        live_server, tmp_path, locale):
    portal = build_portal(live_server.url, register_portal(live_server.app), tmp_path / "portal.db",
                          PORTAL_SUPPORT_EMAIL="eed-dli@example.gc.ca")
    page = portal.test_client().get("/help", headers={"Accept-Language": locale}).get_data(as_text=True)
    text = " ".join(unescape(re.sub(r"<[^>]+>", "", page)).split())
    for sentence in MAILBOX[locale]:
        assert sentence in text
    assert 'href="mailto:eed-dli@example.gc.ca"' in page


def test_without_a_mailbox_the_help_page_names_none(portal):
    assert "mailto:" not in portal.test_client().get("/help", headers={"Accept-Language": "en"}).get_data(as_text=True)


@pytest.mark.parametrize("address", ["not an address", 'x"@example.ca', "<a@b.ca>"])
def test_a_mailbox_that_is_not_a_plain_address_is_refused_at_start(live_server, tmp_path, address):
    from clients.institution_portal.config import ConfigError

    with pytest.raises(ConfigError, match="PORTAL_SUPPORT_EMAIL"):
        build_portal(live_server.url, register_portal(live_server.app), tmp_path / "portal.db",
                     PORTAL_SUPPORT_EMAIL=address)
