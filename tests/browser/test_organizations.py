"""Seed 001's institution in real Chromium, in French and English, axe-core on every page
(issue 11, Done when): the operator creates a DLI (`idp orgs create`) → its primary user
registers with the emailed code and signs in → on the account home, « Créer un compte pour
un utilisateur d'un EED », « Nouvelle requête » → the secondary user registers, signs in and
sees the organization and their role, nothing to manage → the primary user asks to remove
the secondary user → an operator approves: the secondary user's session ends, their account
no longer shows the organization and their relying party's token stops working.

Also, with members set up through the services (the journey above covers registering): a
relying party granted the `organization` scope receives the primary then the secondary role
after sign-in and consent, and an approved change of primary user moves the Organization
area from one browser to the other, with the decision emailed to both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from click.testing import CliRunner
from playwright.sync_api import Page, expect

from idp.accounts.models import User
from idp.cli import main
from idp.extensions import db
from idp.oidc.client_rules import DEFAULT_SCOPE
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.support import RedirectReceiver, create_client
from tests.browser.test_authorization import CONSENT, authorization_url, jwt_payload, pkce_pair
from tests.browser.test_registration_journeys import TEXT as REGISTRATION_TEXT
from tests.browser.test_registration_journeys import check_page, set_password, solve_robot, speak
from tests.browser.test_signin import TEXT as SIGNIN_TEXT
from tests.browser.test_signin import submit_signin
from tests.integration.registration.support import PASSWORD, invitation_code
from tests.mail_support import code_in
from tests.oidc_support import PASSWORD as MEMBER_PASSWORD
from tests.orgs_access_support import PRIMARY_EMAIL, SECONDARY_EMAIL, Dli, dli_with_members

pytestmark = pytest.mark.browser

PRIMARY, SECONDARY = "pat.primaire@example.ca", "sam.secondaire@example.ca"
MAIL_TIMEOUT = 30
TEXT = {
    "fr": {
        "organization": "Collège Imaginaire",
        "your_organization": "Votre organisation",
        "primary": "Utilisateur principal",
        "secondary": "Utilisateur secondaire",
        "manage_link": "Gérer les utilisateurs et les demandes de votre organisation",
        "manage": "Gérer votre organisation",
        "invite": "Créer un compte pour un utilisateur d'un EED",
        "email": "Adresse courriel de l'utilisateur",
        "new_request": "Nouvelle requête",
        "bad_address": "Entrez une adresse courriel, comme nom@exemple.ca.",
        "sent": f"Nous avons envoyé un code d'invitation à {SECONDARY}.",
        "secondary_manages": "L'utilisateur principal de votre organisation gère ses utilisateurs.",
        "ask_to_remove": "Demander de supprimer",
        "remove": "Demander de supprimer un utilisateur secondaire",
        "reason": "Raison de la demande",
        "send": "Envoyer la demande",
        "requests": "Les demandes de votre organisation",
        "waiting": "En attente d'une décision",
        "approved": "Approuvée",
        "change": "Demander de changer l'utilisateur principal",
        "stay": "Rester comme utilisateur secondaire",
        "only_primary": "Seul l'utilisateur principal peut faire ceci",
        "scope": re.compile(r"^L[’']organisation que vous représentez \(son nom et son numéro\) et votre rôle au sein de celle-ci\.$"),
        "decided": re.compile(r"^Demande approuvée\s*:\s*Collège Imaginaire$"),
    },
    "en": {
        "organization": "Imaginary College",
        "your_organization": "Your organization",
        "primary": "Primary user",
        "secondary": "Secondary user",
        "manage_link": "Manage your organization's users and requests",
        "manage": "Manage your organization",
        "invite": "Create an account for a user of the institution",
        "email": "Email address of the user",
        "new_request": "New request",
        "bad_address": "Enter an email address, like name@example.ca.",
        "sent": f"We sent an invitation code to {SECONDARY}.",
        "secondary_manages": "Your organization's primary user manages its users.",
        "ask_to_remove": "Ask to remove",
        "remove": "Ask to remove a secondary user",
        "reason": "Reason for the request",
        "send": "Send the request",
        "requests": "Your organization's requests",
        "waiting": "Waiting for a decision",
        "approved": "Approved",
        "change": "Ask to change the primary user",
        "stay": "Stay as a secondary user",
        "only_primary": "Only the primary user can do this",
        "scope": re.compile(r"^The organization you represent \(its name and number\) and your role in it\.$"),
        "decided": re.compile(r"^Request approved:\s*Imaginary College$"),
    },
}

# A relying party the operator granted the `organization` scope, and what it asks for.
ORGANIZATION_CLIENT_SCOPE = DEFAULT_SCOPE + " organization"
ORGANIZATION_REQUEST = "openid profile organization"


@pytest.fixture
def receiver() -> Iterator[RedirectReceiver]:
    receiver = RedirectReceiver().start()
    yield receiver
    receiver.stop()


def operator(app, *args: str) -> dict:
    """`idp ARGS --json` as an operator runs it (docs/operators.md, Organizations): its JSON."""
    result = CliRunner().invoke(main, [*args, "--json"], obj=app, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def create_dli(app, locale: str) -> dict:
    return operator(app, "orgs", "create", "--kind", "dli", "--number", "O123456789012", "--name-fr", "Collège Imaginaire",
                    "--name-en", "Imaginary College", "--primary-email", PRIMARY, "--locale", locale)


def approve_the_pending_request(app) -> dict:
    """The operator lists the requests waiting for a decision (one here) and approves it."""
    pending = operator(app, "orgs", "requests", "list", "--state", "pending")
    assert len(pending) == 1, pending
    decided = operator(app, "orgs", "requests", "approve", str(pending[0]["id"]), "--reason", "Vérifié.")
    assert decided["state"] == "approved", decided
    return decided


def members_speaking(app, locale: str) -> Dli:
    """A DLI whose primary (pat@) and secondary (sam@) users registered through its
    invitations, set up through the services, their accounts in this language."""
    dli = dli_with_members(app)
    with app.app_context():
        for user_id in dli.members.values():
            db.session.get(User, user_id).locale = locale
        db.session.commit()
    return dli


@contextmanager
def own_browser(browser, live_server, locale: str) -> Iterator[Page]:
    """Another person's browser profile, in this language (a sign-in as someone else in the
    same profile would end the first person's session)."""
    context = browser.new_context(base_url=live_server.url, locale="en-CA")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        speak(page, live_server, locale)
        yield page
    finally:
        context.close()


def sign_in(page: Page, axe, locale: str, email: str, password: str = MEMBER_PASSWORD) -> None:
    page.goto("/signin")
    submit_signin(page, locale, email, password)
    check_page(page, axe, SIGNIN_TEXT[locale]["account"], f"the account home of {email} ({locale})")


def send_to_relying_party(page: Page, client_id: str, receiver: RedirectReceiver, locale: str) -> str:
    """The relying party's authorization request for the organization scope (code, PKCE),
    in this language; returns its code verifier."""
    verifier, challenge = pkce_pair()
    receiver.forget()
    page.goto(authorization_url(client_id, receiver.url, scope=ORGANIZATION_REQUEST, code_challenge=challenge,
                                ui_locales=locale))
    return verifier


def redeem(page: Page, live_server, receiver: RedirectReceiver, client: tuple[str, str], verifier: str) -> dict:
    """The code the relying party received, exchanged at the token endpoint."""
    response = receiver.wait(page)
    assert "code" in response, response
    tokens = requests.post(
        f"{live_server.url}/token",
        data={"grant_type": "authorization_code", "code": response["code"], "redirect_uri": receiver.url,
              "code_verifier": verifier},
        auth=client, timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    return tokens.json()


def userinfo(live_server, access_token: str) -> requests.Response:
    return requests.get(f"{live_server.url}/userinfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=10)


def organization_claim(organization_id: str, role: str) -> dict:
    """docs/oidc.md, Scopes and claims: the `organization` claim of a member of the DLI."""
    return {"id": organization_id, "kind": "dli", "number": "O123456789012",
            "name": {"fr": "Collège Imaginaire", "en": "Imaginary College"}, "role": role}


def register_and_sign_in(page: Page, mailbox, axe, locale: str, email: str, given_name: str) -> None:
    """Seed 001's code journey, from the invitation email to the account home."""
    text = REGISTRATION_TEXT[locale]
    code = invitation_code(mailbox.wait_for(email, timeout=MAIL_TIMEOUT))
    page.goto("/register/code")
    page.get_by_label(text["invitation_code"], exact=True).fill(code)
    page.get_by_label(text["email"], exact=True).fill(email)
    page.get_by_label(text["given_name"], exact=True).fill(given_name)
    page.get_by_label(text["family_name"], exact=True).fill("Tremblay")
    page.get_by_label(text["phone"], exact=True).fill("514 555-0123")
    set_password(page, text)
    solve_robot(page, text)
    page.get_by_label(text["consent"]).check()
    page.get_by_role("button", name=text["register"], exact=True).click()
    check_page(page, axe, text["confirm_heading"], f"confirm the registration of {email} ({locale})")
    page.get_by_label(text["verification_code"], exact=True).fill(code_in(mailbox.wait_for(email, count=2, timeout=MAIL_TIMEOUT)))
    page.get_by_role("button", name=text["confirm"], exact=True).click()
    check_page(page, axe, text["ready"], f"the account of {email} is ready ({locale})")
    page.get_by_role("link", name=text["sign_in"], exact=True).click()
    page.get_by_label(text["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=text["sign_in"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/signin/code$"))
    page.locator("input[name=code]").fill(code_in(mailbox.wait_for(email, count=3, timeout=MAIL_TIMEOUT)))
    page.locator("form[action$='/signin/code'] button[type=submit]").click()
    check_page(page, axe, text["account"], f"the account home of {email} ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_primary_invites_a_secondary_who_is_removed_once_approved(page, browser, live_server, mailbox, axe, receiver, locale):
    text = TEXT[locale]
    speak(page, live_server, locale)
    create_dli(live_server.app, locale)
    client = create_client(live_server.app, receiver.url, scope=ORGANIZATION_CLIENT_SCOPE)

    # The primary user registers with the emailed code: the account home names the organization.
    register_and_sign_in(page, mailbox, axe, locale, PRIMARY, "Pat")
    expect(page.get_by_role("heading", name=text["your_organization"])).to_be_visible()
    expect(page.get_by_text(text["organization"], exact=True)).to_be_visible()
    expect(page.get_by_text(text["primary"], exact=True)).to_be_visible()
    page.get_by_role("link", name=text["manage_link"]).click()
    check_page(page, axe, text["manage"], f"the organization area ({locale})")

    # « Créer un compte pour un utilisateur d'un EED » → « Nouvelle requête »
    page.get_by_role("link", name=text["invite"]).click()
    check_page(page, axe, text["invite"], f"create an account for a user ({locale})")
    page.get_by_label(text["email"], exact=True).fill("not an address")
    page.get_by_role("button", name=text["new_request"], exact=True).click()
    expect(page.locator(".error-summary")).to_contain_text(text["bad_address"])
    axe.assert_accessible(page, f"the invitation form with an error ({locale})")
    page.get_by_label(text["email"], exact=True).fill(SECONDARY)
    page.get_by_role("button", name=text["new_request"], exact=True).click()
    check_page(page, axe, text["manage"], f"the organization area after inviting ({locale})")
    expect(page.get_by_role("status")).to_contain_text(text["sent"])
    expect(page.get_by_role("cell", name=SECONDARY, exact=True)).to_be_visible()

    # The secondary user, in their own browser: the organization and their role, nothing to
    # manage; a relying party with the organization scope signs them in (their session).
    with own_browser(browser, live_server, locale) as other:
        register_and_sign_in(other, mailbox, axe, locale, SECONDARY, "Sam")
        expect(other.get_by_text(text["organization"], exact=True)).to_be_visible()
        expect(other.get_by_text(text["secondary"], exact=True)).to_be_visible()
        expect(other.get_by_text(text["secondary_manages"])).to_be_visible()
        expect(other.get_by_role("link", name=text["manage_link"])).to_have_count(0)
        verifier = send_to_relying_party(other, client[0], receiver, locale)
        tokens = redeem(other, live_server, receiver, client, verifier)
        assert userinfo(live_server, tokens["access_token"]).json()["organization"]["role"] == "secondary"

        # The primary user asks to remove the secondary user.
        page.reload()
        page.get_by_role("link", name=text["ask_to_remove"]).first.click()
        check_page(page, axe, text["remove"], f"ask to remove a secondary user ({locale})")
        expect(page.get_by_role("radio", name=f"Sam Tremblay ({SECONDARY})")).to_be_checked()
        page.get_by_label(text["reason"], exact=True).fill("Sam a quitté le collège." if locale == "fr" else "Sam left the college.")
        page.get_by_role("button", name=text["send"], exact=True).click()
        check_page(page, axe, text["requests"], f"the organization's requests ({locale})")
        expect(page.get_by_role("cell", name=text["waiting"])).to_be_visible()

        # An operator approves: the request is decided, and the secondary user's session at
        # Passerelle and their organization token have ended; the account stays.
        approve_the_pending_request(live_server.app)
        page.reload()
        expect(page.get_by_role("cell", name=text["approved"])).to_contain_text("Vérifié.")  # the operator's note
        assert userinfo(live_server, tokens["access_token"]).status_code == 401
        other.goto("/account")
        expect(other).to_have_url(re.compile(r"/signin(\?|$)"))
        check_page(other, axe, SIGNIN_TEXT[locale]["heading"], f"the removed secondary user's next page ({locale})")
        submit_signin(other, locale, SECONDARY, PASSWORD)
        check_page(other, axe, SIGNIN_TEXT[locale]["account"], f"the removed secondary user's account home ({locale})")
        expect(other.get_by_role("heading", name=text["your_organization"])).to_have_count(0)
        expect(other.get_by_text(text["organization"], exact=True)).to_have_count(0)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_relying_party_with_the_organization_scope_receives_both_roles(browser, live_server, receiver, axe, locale):
    """Sign-in and consent in the browser, code with PKCE redeemed by the relying party: the
    ID token and UserInfo carry the primary user's, then the secondary user's membership."""
    text, consent = TEXT[locale], CONSENT[locale]
    dli = dli_with_members(live_server.app)
    client = create_client(live_server.app, receiver.url, name="Portail des documents", require_consent=True,
                           scope=ORGANIZATION_CLIENT_SCOPE)
    for email, role in ((PRIMARY_EMAIL, "primary"), (SECONDARY_EMAIL, "secondary")):
        with own_browser(browser, live_server, locale) as page:
            verifier = send_to_relying_party(page, client[0], receiver, locale)
            expect(page.locator("html")).to_have_attribute("lang", locale)  # ui_locales
            check_page(page, axe, SIGNIN_TEXT[locale]["heading"], f"the sign-in page the relying party sent {email} to ({locale})")
            submit_signin(page, locale, email, MEMBER_PASSWORD)
            check_page(page, axe, consent["heading"], f"the consent page with the organization scope ({locale}, {role})")
            expect(page.get_by_role("listitem").filter(has_text=text["scope"])).to_be_visible()
            page.get_by_role("button", name=consent["allow"], exact=True).click()
            tokens = redeem(page, live_server, receiver, client, verifier)
        expected = organization_claim(dli.public_id, role)
        assert jwt_payload(tokens["id_token"])["organization"] == expected
        assert "organization" in tokens["scope"].split()
        claims = userinfo(live_server, tokens["access_token"])
        assert claims.status_code == 200, claims.text
        assert claims.json()["organization"] == expected


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_an_approved_change_of_primary_moves_the_organization_area(page, browser, live_server, mailbox, axe, locale):
    text = TEXT[locale]
    dli = members_speaking(live_server.app, locale)
    speak(page, live_server, locale)

    # The primary user asks to make the secondary user primary, and to stay as a secondary user.
    sign_in(page, axe, locale, PRIMARY_EMAIL)
    page.get_by_role("link", name=text["manage_link"]).click()
    page.get_by_role("link", name=text["change"]).click()
    check_page(page, axe, text["change"], f"ask to change the primary user ({locale})")
    page.get_by_role("radio", name=f"Zoé Citoyenne ({SECONDARY_EMAIL})").check()
    page.get_by_role("radio", name=text["stay"], exact=True).check()
    page.get_by_label(text["reason"], exact=True).fill("Pat change de poste." if locale == "fr" else "Pat changes jobs.")
    page.get_by_role("button", name=text["send"], exact=True).click()
    check_page(page, axe, text["requests"], f"the organization's requests ({locale})")
    expect(page.get_by_role("cell", name=text["waiting"])).to_be_visible()

    approve_the_pending_request(live_server.app)

    # The former primary user: the secondary role, nothing to manage, the area refused.
    page.goto("/account")
    check_page(page, axe, SIGNIN_TEXT[locale]["account"], f"the former primary user's account home ({locale})")
    expect(page.get_by_text(text["secondary"], exact=True)).to_be_visible()
    expect(page.get_by_text(text["secondary_manages"])).to_be_visible()
    expect(page.get_by_role("link", name=text["manage_link"])).to_have_count(0)
    page.goto(f"/account/organization/{dli.public_id}")
    check_page(page, axe, text["only_primary"], f"the organization area refused to a secondary user ({locale})")

    # The new primary user, in their own browser: the Organization area, with the former
    # primary user among the secondary users.
    with own_browser(browser, live_server, locale) as other:
        sign_in(other, axe, locale, SECONDARY_EMAIL)
        expect(other.get_by_text(text["primary"], exact=True)).to_be_visible()
        other.get_by_role("link", name=text["manage_link"]).click()
        check_page(other, axe, text["manage"], f"the new primary user's organization area ({locale})")
        expect(other.get_by_role("row").filter(has_text=PRIMARY_EMAIL)).to_contain_text(text["secondary"])

    # The decision reached both people, in their language.
    for email in (PRIMARY_EMAIL, SECONDARY_EMAIL):
        subjects = [message["Subject"] for message in mailbox.to(email)]
        assert any(text["decided"].match(subject) for subject in subjects), (email, subjects)
