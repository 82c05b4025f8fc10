"""Seed 000, « 01 S'inscrire », from the school's side to the learner's mailbox: a staff
member of École Imaginaire issues a « Relevé de notes numérisé » at the document portal,
the portal calls Passerelle's invitations API, and the one email Passerelle sends a new
address reads as the seed's (greeting, which document from whom, signed, « M'inscrire »,
whom to ask, the FAQ, the school's own page) and its button opens the account creation
page, the names filled in (docs/seeds.md). The API's own tests word the email from a direct call
(tests/integration/invitations/test_documents.py); this one proves the portal's call."""

from __future__ import annotations

from html import unescape

import pytest

from tests.document_portal_support import SCHOOL_NUMBER, build_document_portal
from tests.integration.document_portal.test_issuing import (  # noqa: F401 (fixtures)
    issue_form,
    pki,
    registration,
    school,
    staff_browser,
)
from tests.mail_support import html_body, path_of_link, text_body

LEARNER = "zoe@example.ca"
SCHOOL_PAGE = "https://ecole-imaginaire.ca/mescertif"


@pytest.fixture
def portal(live_server, registration, tmp_path, pki):  # noqa: F811
    """The portal, with École Imaginaire's own page about the service (SCHOOL_PAGES)."""
    return build_document_portal(live_server.url, registration, tmp_path / "portal.db", pki,
                                 WTF_CSRF_ENABLED=False, TESTING=True,
                                 DOCUMENT_PORTAL_SCHOOL_PAGES={SCHOOL_NUMBER: SCHOOL_PAGE})
SEED_SENTENCES = (
    "Bonjour Zoé Citoyenne,",
    "Un Relevé de notes numérisé vous a été transmis par École Imaginaire.",
    "Ce document est signé numériquement pour en garantir l'authenticité et l'intégrité.",
    "Si vous avez des questions, contactez votre établissement à info@ecole-imaginaire.ca.",
)


def test_a_school_issues_at_the_portal_and_the_learner_gets_the_seeds_invitation(
        portal, live_server, school, clock, mailbox):  # noqa: F811
    staff = staff_browser(portal, live_server, school, clock)
    issued = staff.post("/issuing/new", data=issue_form(title_fr="Relevé de notes numérisé",
                                                       title_en="Digital transcript",
                                                       contact_email="info@ecole-imaginaire.ca"),
                        content_type="multipart/form-data")
    assert issued.status_code == 302, issued.get_data(as_text=True)[:2000]

    message = mailbox.wait_for(LEARNER)
    assert message["Subject"] == "École Imaginaire vous a transmis un document : Relevé de notes numérisé"
    text = " ".join(text_body(message).split())
    for sentence in SEED_SENTENCES:
        assert sentence in text
    faq = portal.extensions["document_portal"].settings.faq_url
    assert faq in text
    html = unescape(html_body(message))
    assert ">M'inscrire</a>" in html and f'href="{faq}"' in html
    # « Des renseignements généraux à propos de l'utilisation de … par École Imaginaire se trouvent sur la
    # [École Imaginaire] »: the school's own page, from the portal's SCHOOL_PAGES.
    assert ("Des renseignements généraux à propos de l'utilisation de Passerelle par École Imaginaire se "
            f"trouvent sur la page de l'établissement : {SCHOOL_PAGE}") in text
    assert f'href="{SCHOOL_PAGE}"' in html

    # « M'inscrire » leads to the account creation page, the names from the school's form.
    client = live_server.app.test_client()
    client.set_cookie("passerelle_lang", "fr")
    page = client.get(path_of_link(message, "/register/invitation/"))
    assert page.status_code == 200
    assert "Créez votre compte Passerelle" in page.text and "Pourquoi s'inscrire?" in unescape(page.text)
    assert 'value="Zoé"' in page.text and 'value="Citoyenne"' in page.text
