"""The operators' console in real Chromium (issue 16), French and English, axe-core on
every console page: a service-desk agent signs in with a security key (Chromium's virtual
authenticator), finds a person by exact address, resets their two-factor with a reason,
and the person's next sign-in sets up two-factor again after the emailed code."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.support import finish_signin_steps, plug_in_key
from tests.browser.test_security_key import TEXT as KEY_TEXT
from tests.browser.test_security_key import localhost_server  # noqa: F401  (fixture)
from tests.browser.test_signin import submit_signin
from tests.console_support import PASSWORD, add_app_and_codes, add_key, create_person
from tests.webauthn_support import SoftwareAuthenticator

pytestmark = pytest.mark.browser

TEXT = {
    "fr": {
        "find": "Trouver une personne", "email": "Adresse courriel", "search": "Chercher",
        "reset_link": "Réinitialiser l’authentification à deux facteurs après vérification de l’identité",
        "reset": "Réinitialiser l’authentification à deux facteurs",
        "callback": "Rappel à un numéro de téléphone déjà au dossier",
        "note": "Note : ce que vous avez vérifié, et pourquoi l’authentification à deux facteurs est réinitialisée",
        "done": "L’authentification à deux facteurs a été réinitialisée.",
        "required": "Indiquez la raison de cette action",
    },
    "en": {
        "find": "Find a person", "email": "Email address", "search": "Search",
        "reset_link": "Reset two-factor after verifying identity",
        "reset": "Reset two-factor",
        "callback": "Called back at a phone number already on file",
        "note": "Note: what you checked, and why two-factor is reset",
        "done": "Two-factor was reset.",
        "required": "Write the reason for this action",
    },
}
AGENT, PERSON = "agent.desk@example.ca", "zoe.citoyenne@example.ca"


@pytest.fixture
def agent_page(browser: Browser, localhost_server, request) -> Iterator[Page]:  # noqa: F811
    """A profile in the test's language whose virtual authenticator holds the agent's key."""
    locale = request.node.callspec.params["locale"]
    key = SoftwareAuthenticator(localhost_server.url, "localhost")
    app = localhost_server.app
    with app.app_context():
        from idp.console.roles import SERVICE_DESK, RoleService
        from idp.context import app_context
        from idp.extensions import db

        agent = create_person(AGENT, "Dana", "Desk")
        add_key(agent, key, nickname="Clé du bureau")
        RoleService(db.session, app_context().clock).grant(agent, SERVICE_DESK)
        person = create_person(PERSON, locale=locale)
        add_app_and_codes(person)
        db.session.commit()
    context = browser.new_context(base_url=localhost_server.url, locale=f"{locale}-CA")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    plug_in_key(page, key)
    yield page
    context.close()


def console_sign_in(page: Page, locale: str) -> None:
    """The agent opens /admin/: password, then the security key, then the console's search."""
    page.goto("/admin/")
    submit_signin(page, locale, AGENT, PASSWORD, finish=False)
    page.get_by_role("button", name=KEY_TEXT[locale]["use_key"], exact=True).click()
    page.wait_for_url(re.compile(r"/(signin/terms|admin/)$"))
    finish_signin_steps(page, locale, AGENT, 0)
    expect(page).to_have_url(re.compile(r"/admin/$"))


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_service_desk_resets_two_factor_and_the_person_sets_it_up_again(agent_page, localhost_server, axe, locale):  # noqa: F811
    page, text = agent_page, TEXT[locale]
    page.goto("/admin/")  # not signed in: the sign-in, then back to the console
    expect(page.locator("html")).to_have_attribute("lang", locale)
    submit_signin(page, locale, AGENT, PASSWORD, finish=False)
    expect(page).to_have_url(re.compile(r"/signin/security-key$"))
    page.get_by_role("button", name=KEY_TEXT[locale]["use_key"], exact=True).click()
    page.wait_for_url(re.compile(r"/(signin/terms|admin/)$"))
    finish_signin_steps(page, locale, AGENT, 0)

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(text["find"])
    axe.assert_accessible(page, f"the console's search ({locale})")
    page.get_by_label(text["email"], exact=True).fill(PERSON.upper())
    page.get_by_role("button", name=text["search"], exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Zoé Citoyenne")
    axe.assert_accessible(page, f"a person in the console ({locale})")
    page.get_by_role("link", name=text["reset_link"], exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(text["reset"])
    axe.assert_accessible(page, f"the two-factor reset ({locale})")
    page.get_by_role("button", name=text["reset"], exact=True).click()  # nothing chosen nor written
    expect(page.get_by_role("alert")).to_contain_text(text["required"])
    axe.assert_accessible(page, f"the two-factor reset with errors ({locale})")
    page.get_by_label(text["callback"], exact=True).check()
    page.get_by_label(text["note"], exact=True).fill("Rappelée au 613-555-0100, au dossier; téléphone perdu.")
    page.get_by_role("button", name=text["reset"], exact=True).click()

    expect(page.get_by_role("status")).to_contain_text(text["done"])
    axe.assert_accessible(page, f"the person after the reset ({locale})")
    with localhost_server.app.app_context():
        from idp.accounts.models import User
        from idp.extensions import db

        assert db.session.scalar(select(User.mfa_enrolled_at).where(User.email == PERSON)) is None

    # The person's next sign-in: the password, the emailed code, then a new set-up.
    page.context.clear_cookies()
    page.goto("/account")
    submit_signin(page, locale, PERSON, PASSWORD)
    expect(page).to_have_url(re.compile(r"/signin/setup$"))
    expect(page).to_have_title(KEY_TEXT[locale]["setup_title"])



ORG_TEXT = {
    "fr": {"requests": "Demandes de changement", "approve": "Approuver", "approve_title": "Approuver la demande",
           "reason": "Raison", "approved": "La demande a été approuvée et appliquée",
           "organizations": "Organisations dans la console"},
    "en": {"requests": "Change requests", "approve": "Approve", "approve_title": "Approve the request",
           "reason": "Reason", "approved": "The request was approved and applied",
           "organizations": "Organizations in the console"},
}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_operator_approves_a_change_request_from_the_console(agent_page, localhost_server, axe, locale):  # noqa: F811
    page, text = agent_page, ORG_TEXT[locale]
    with localhost_server.app.app_context():
        from idp.accounts.models import User
        from idp.console.roles import OPERATOR, RoleService
        from idp.context import app_context
        from idp.extensions import db
        from tests.orgs_support import org_service, org_with_members

        RoleService(db.session, app_context().clock).grant(db.session.scalar(select(User).where(User.email == AGENT)), OPERATOR)
        service = org_service()
        organization, (_primary, primary_user), [(secondary, _user)] = org_with_members(service)
        service.submit_request(organization.id, by_user_id=primary_user.id, kind="remove_secondary",
                               reason="Sam a quitté le collège", target_membership_id=secondary.id)
        db.session.commit()
    console_sign_in(page, locale)

    page.get_by_role("link", name=ORG_TEXT[locale]["organizations"].split(" ")[0], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["organizations"])
    axe.assert_accessible(page, f"the console's organizations ({locale})")
    page.get_by_role("link", name="Imaginary College" if locale == "en" else "Collège Imaginaire", exact=True).click()
    expect(page.get_by_text("sam@example.ca").first).to_be_visible()
    axe.assert_accessible(page, f"an organization in the console ({locale})")
    page.get_by_role("navigation", name="Console").get_by_role("link", name=text["requests"], exact=True).click()
    expect(page.get_by_text("Sam a quitté le collège")).to_be_visible()
    axe.assert_accessible(page, f"the change requests queue ({locale})")
    page.get_by_role("link", name=re.compile("^" + text["approve"] + " ")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["approve_title"])
    axe.assert_accessible(page, f"approving a request ({locale})")
    page.get_by_label(text["reason"], exact=True).fill("Confirmé avec le collège par téléphone.")
    page.get_by_role("button", name=text["approve_title"], exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(text["approved"])
    axe.assert_accessible(page, f"the queue after approving ({locale})")
