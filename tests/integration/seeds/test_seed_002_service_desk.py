"""Seed 002, « Communiquer avec le Bureau de service »: the people who answer can help only
with the sign-in service itself (two-factor included) and have no access to what the
services hold about the person (docs/seeds.md). Passerelle's help page says so, in French
and English, next to the support contact the operator configured, and says what to do
without a recovery code."""

from __future__ import annotations

import re
from html import unescape

import pytest

SUPPORT = {"SUPPORT_EMAIL": "soutien@example.ca", "SUPPORT_PHONE": "1-855-555-0102"}
WORDS = {
    "fr": {
        "scope": "Notre équipe de soutien peut vous aider uniquement pour Passerelle (ouverture de session, "
                 "authentification à deux facteurs). Elle n'a pas accès aux renseignements que vous conservez "
                 "dans les services auxquels vous vous connectez.",
        "recover": "« Récupérer le compte »",
    },
    "en": {
        "scope": "Our support team can help with Passerelle only (signing in, two-factor authentication). "
                 "It cannot see the information you keep in the services you sign in to.",
        "recover": "“Recover account”",
    },
}


def lost_two_factor_section(client, locale: str) -> str:
    client.set_cookie("passerelle_lang", locale)
    page = client.get("/help")
    assert page.status_code == 200
    section = unescape(page.text).partition('id="lost-two-factor"')[2].partition("<h2")[0]
    return re.sub(r"\s+", " ", section)


@pytest.mark.settings(**SUPPORT)
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_help_page_says_the_support_team_helps_with_signing_in_only_and_how_to_reach_it(client, locale):
    section = lost_two_factor_section(client, locale)
    assert WORDS[locale]["scope"] in section
    assert 'href="mailto:soutien@example.ca"' in section and "1-855-555-0102" in section
    assert WORDS[locale]["recover"] in section  # with recovery codes: « Récupérer le compte »


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_without_a_configured_contact_the_help_page_promises_no_support_team(client, locale):
    section = lost_two_factor_section(client, locale)
    assert WORDS[locale]["scope"] not in section and "mailto:" not in section


RESET_BY_SUPPORT = {
    "fr": "Sans code de récupération, communiquez avec notre équipe de soutien (ci-dessous). Après avoir vérifié "
          "votre identité, elle peut retirer vos méthodes d'authentification à deux facteurs",
    "en": "Without a recovery code, contact our support team (below). After checking that you are who you say you "
          "are, they can remove your two-factor methods",
}
NO_RECOVERY = {"fr": "pas même par notre équipe de soutien", "en": "not even by our support team"}


@pytest.mark.settings(**SUPPORT)
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_with_a_support_team_the_help_page_says_it_can_reset_two_factor_after_checking_identity(client, locale):
    """What the console lets the service desk do (issue 16, docs/console.md), the help page
    says; it no longer also says that nobody can help (docs/seeds.md, G3)."""
    section = lost_two_factor_section(client, locale)
    assert RESET_BY_SUPPORT[locale] in section
    assert NO_RECOVERY[locale] not in section


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_without_a_support_team_the_help_page_keeps_the_seeds_answer(client, locale):
    section = lost_two_factor_section(client, locale)
    assert NO_RECOVERY[locale] in section and RESET_BY_SUPPORT[locale] not in section
