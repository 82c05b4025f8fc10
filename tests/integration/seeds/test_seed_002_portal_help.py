"""Seed 002, « Difficultés techniques »: the institution portal's help page gives the seed's
first advice, in French and English (docs/seeds.md). The rest of that paragraph — the
institutions' mailbox, what to write and the ten-business-day answer — is not on the page
yet (docs/seeds.md, G2)."""

from __future__ import annotations

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
