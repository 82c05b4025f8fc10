"""The console's relying parties in real Chromium (issue 16), French and English, axe-core
on every console page visited: an operator signs in with a security key (Chromium's virtual
authenticator), registers a relying party (its secret shown once), then rotates its secret
with an overlap during which both secrets work."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.test_console import AGENT, agent_page, console_sign_in  # noqa: F401  (fixture)
from tests.browser.test_security_key import localhost_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

TEXT = {
    "fr": {"nav": "Parties utilisatrices", "register": "Inscrire une partie utilisatrice", "name": "Nom affiché aux personnes",
           "redirect": "URI de redirection, une par ligne", "reason": "Raison", "submit": "Inscrire la partie utilisatrice",
           "registered": "Partie utilisatrice inscrite", "go": "Aller à la partie utilisatrice",
           "rotate": "Renouveler le secret", "one_day": "1 jour", "new_secret": "Nouveau secret",
           "until": "Le secret précédent fonctionne jusqu’au", "required": "Indiquez la raison de cette action"},
    "en": {"nav": "Relying parties", "register": "Register a relying party", "name": "Name shown to people",
           "redirect": "Redirect URIs, one a line", "reason": "Reason", "submit": "Register the relying party",
           "registered": "Relying party registered", "go": "Go to the relying party",
           "rotate": "Rotate the secret", "one_day": "1 day", "new_secret": "New secret",
           "until": "The previous secret keeps working until", "required": "Write the reason for this action"},
}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_an_operator_registers_a_relying_party_and_rotates_its_secret(agent_page, localhost_server, axe, locale):  # noqa: F811
    page, text = agent_page, TEXT[locale]
    app = localhost_server.app
    with app.app_context():
        from idp.accounts.models import User
        from idp.console.roles import OPERATOR, RoleService
        from idp.context import app_context
        from idp.extensions import db

        RoleService(db.session, app_context().clock).grant(db.session.scalar(select(User).where(User.email == AGENT)), OPERATOR)
        db.session.commit()
    console_sign_in(page, locale)

    page.get_by_role("navigation", name="Console").get_by_role("link", name=text["nav"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["nav"])
    axe.assert_accessible(page, f"the console's relying parties ({locale})")
    page.get_by_role("link", name=text["register"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["register"])
    axe.assert_accessible(page, f"registering a relying party ({locale})")
    page.get_by_label(text["name"], exact=True).fill("Portail <i>des</i> stages")
    page.get_by_label(text["redirect"], exact=True).fill("https://stages.example.ca/callback")
    page.get_by_role("button", name=text["submit"], exact=True).click()  # no reason
    expect(page.get_by_role("alert")).to_contain_text(text["required"])
    axe.assert_accessible(page, f"registering with errors ({locale})")
    page.get_by_label(text["reason"], exact=True).fill("Entente signée le 7 décembre.")
    page.get_by_role("button", name=text["submit"], exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(text["registered"])
    axe.assert_accessible(page, f"the relying party registered, its secret shown once ({locale})")
    first_secret = page.locator("#client-secret").inner_text()
    client_id = page.locator("dd code").first.inner_text()
    page.get_by_role("link", name=text["go"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Portail <i>des</i> stages")  # escaped, shown as typed
    expect(page.locator("body")).not_to_contain_text(first_secret)
    axe.assert_accessible(page, f"a relying party in the console ({locale})")

    page.get_by_role("link", name=text["rotate"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["rotate"])
    axe.assert_accessible(page, f"rotating a secret ({locale})")
    page.get_by_label(text["one_day"], exact=True).check()
    page.get_by_label(text["reason"], exact=True).fill("Changement d’équipe au portail.")
    page.get_by_role("button", name=text["rotate"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["new_secret"])
    expect(page.get_by_role("status")).to_contain_text(text["until"])
    axe.assert_accessible(page, f"the new secret, shown once ({locale})")
    second_secret = page.locator("#client-secret").inner_text()
    assert second_secret != first_secret
    with app.app_context():
        from idp.context import app_context
        from idp.extensions import db
        from idp.oidc.clients import ClientService

        ctx = app_context()
        service = ClientService(db.session, ctx.settings, ctx.clock, ctx.hasher)
        client = service.get(client_id)
        assert service.is_secret_valid(client, first_secret) and service.is_secret_valid(client, second_secret)
