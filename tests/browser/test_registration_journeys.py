"""The two registration journeys of the seeds in real Chromium, from the invitation email to
the first sign-in, in French and English, with axe-core on every page (issue 3, Tests).

Seed 000: invitation email → "Sign up" link → form → "Check your email" → activation email
→ confirm button → "Almost there" (password, the not-a-robot widget solved in the browser,
terms) → signed in, account home.
Seed 001: invitation code email → sign-in page → "Register" → code form → verification code
email → "Confirm your registration" → "Your account is ready" → sign in (address filled in)
→ the emailed sign-in code → account home (the terms were accepted while registering).
Mail is read from the real SMTP server on loopback that the live IdP sends to.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.integration.registration.support import PASSWORD, invitation_code, invite
from tests.mail_support import code_in, path_of_link

pytestmark = pytest.mark.browser

EMAIL = "zoe.citoyenne@example.ca"
# Mail leaves after the response, in the live server's thread: generous on a loaded machine.
MAIL_TIMEOUT = 30
TEXT = {
    "fr": {
        "create_heading": "Créez votre compte Passerelle",
        "all_required": "Tous les champs sont obligatoires.",
        "why": "Pourquoi s'inscrire?",
        "given_name": "Prénom",
        "family_name": "Nom de famille",
        "email": "Adresse courriel",
        "next": "Suivant",
        "check_email": "Consultez vos courriels",
        "confirm_email_heading": "Confirmez votre adresse courriel",
        "confirm_email_button": "Confirmer mon adresse courriel",
        "almost_there": "Vous y êtes presque",
        "password": "Mot de passe",
        "confirm_password": "Confirmez votre mot de passe",
        "robot": "Je ne suis pas un robot",
        "verified": "Vérifié",
        "consent": "Oui, je consens aux conditions d'utilisation et à la politique de confidentialité",
        "create_account": "Créer mon compte",
        "account": "Votre compte",
        "register_link": "Inscrivez-vous",
        "code_heading": "S'inscrire avec un code d'invitation",
        "invitation_code": "Code d'invitation",
        "phone": "Numéro de téléphone",
        "register": "S'inscrire",
        "confirm_heading": "Confirmez votre inscription",
        "verification_code": "Code de vérification",
        "confirm": "Confirmer",
        "ready": "Votre compte est prêt",
        "sign_in": "Ouvrir une session",
        "activation_subject": "Confirmez votre adresse courriel pour activer votre compte Passerelle",
    },
    "en": {
        "create_heading": "Create your Passerelle account",
        "all_required": "All fields are required.",
        "why": "Why register?",
        "given_name": "Given name",
        "family_name": "Family name",
        "email": "Email address",
        "next": "Next",
        "check_email": "Check your email",
        "confirm_email_heading": "Confirm your email address",
        "confirm_email_button": "Confirm my email address",
        "almost_there": "Almost there",
        "password": "Password",
        "confirm_password": "Confirm your password",
        "robot": "I am not a robot",
        "verified": "Verified",
        "consent": "Yes, I consent to the terms of use and the privacy policy",
        "create_account": "Create my account",
        "account": "Your account",
        "register_link": "Register",
        "code_heading": "Register with an invitation code",
        "invitation_code": "Invitation code",
        "phone": "Phone number",
        "register": "Register",
        "confirm_heading": "Confirm your registration",
        "verification_code": "Verification code",
        "confirm": "Confirm",
        "ready": "Your account is ready",
        "sign_in": "Sign in",
        "activation_subject": "Confirm your email address to activate your Passerelle account",
    },
}


def speak(page: Page, live_server, locale: str) -> None:
    page.context.add_cookies([{"name": "passerelle_lang", "value": locale, "url": live_server.url}])


def check_page(page: Page, axe, heading: str, what: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    axe.assert_accessible(page, what)


def solve_robot(page: Page, text: dict) -> None:
    checkbox = page.get_by_role("checkbox", name=text["robot"])
    checkbox.focus()
    page.keyboard.press("Space")  # with the keyboard, as a person without a mouse would
    expect(page.get_by_text(text["verified"], exact=True)).to_be_visible()


def set_password(page: Page, text: dict) -> None:
    page.get_by_label(text["password"], exact=True).fill(PASSWORD)
    page.get_by_label(text["confirm_password"], exact=True).fill(PASSWORD)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_seed_000_link_journey(page, live_server, mailbox, axe, locale):
    text = TEXT[locale]
    speak(page, live_server, locale)
    invite(live_server.app, email=EMAIL, locale=locale)
    page.goto(path_of_link(mailbox.wait_for(EMAIL), "/register/invitation/"))

    check_page(page, axe, text["create_heading"], f"the invitation form ({locale})")
    expect(page.get_by_text(text["all_required"])).to_be_visible()
    expect(page.get_by_role("heading", name=text["why"])).to_be_visible()
    expect(page.get_by_label(text["given_name"], exact=True)).to_have_value("Zoé")  # from the invitation
    expect(page.get_by_label(text["family_name"], exact=True)).to_have_value("Citoyenne")
    page.get_by_label(text["email"], exact=True).fill("Zoe.Citoyenne@Example.ca")
    page.get_by_role("button", name=text["next"]).click()

    check_page(page, axe, text["check_email"], f"check your email ({locale})")
    expect(page.get_by_text(EMAIL, exact=True)).to_be_visible()

    activation = mailbox.wait_for(EMAIL, count=2, timeout=MAIL_TIMEOUT)
    assert activation["Subject"] == text["activation_subject"]
    page.goto(path_of_link(activation, "/register/activate/"))
    check_page(page, axe, text["confirm_email_heading"], f"the activation page ({locale})")
    page.get_by_role("button", name=text["confirm_email_button"]).click()

    check_page(page, axe, text["almost_there"], f"almost there ({locale})")
    set_password(page, text)
    solve_robot(page, text)
    page.get_by_label(text["consent"]).check()
    axe.assert_accessible(page, f"almost there, filled in ({locale})")
    page.get_by_role("button", name=text["create_account"]).click()

    check_page(page, axe, text["account"], f"the account home after registering ({locale})")
    expect(page.get_by_text(EMAIL).first).to_be_visible()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_seed_001_code_journey(page, live_server, mailbox, axe, locale):
    text = TEXT[locale]
    speak(page, live_server, locale)
    invite(live_server.app, kind="code", email=EMAIL, locale=locale)
    code = invitation_code(mailbox.wait_for(EMAIL))

    page.goto("/signin")
    page.get_by_role("link", name=text["register_link"], exact=True).click()
    check_page(page, axe, text["code_heading"], f"the code form ({locale})")
    page.get_by_label(text["invitation_code"], exact=True).fill(code.lower().replace("-", " "))
    page.get_by_label(text["email"], exact=True).fill(EMAIL)
    page.get_by_label(text["given_name"], exact=True).fill("Zoé")
    page.get_by_label(text["family_name"], exact=True).fill("Citoyenne")
    page.get_by_label(text["phone"], exact=True).fill("514 555-0123")
    set_password(page, text)
    solve_robot(page, text)
    page.get_by_label(text["consent"]).check()
    axe.assert_accessible(page, f"the code form, filled in ({locale})")
    page.get_by_role("button", name=text["register"], exact=True).click()

    check_page(page, axe, text["confirm_heading"], f"confirm your registration ({locale})")
    expect(page.get_by_label(text["email"], exact=True)).to_have_value(EMAIL)
    verification = mailbox.wait_for(EMAIL, count=2, timeout=MAIL_TIMEOUT)
    page.get_by_label(text["verification_code"], exact=True).fill(code_in(verification))
    page.get_by_role("button", name=text["confirm"], exact=True).click()

    check_page(page, axe, text["ready"], f"your account is ready ({locale})")
    page.get_by_role("link", name=text["sign_in"], exact=True).click()

    check_page(page, axe, text["sign_in"], f"the sign-in page after registering ({locale})")
    expect(page.get_by_label(text["email"], exact=True)).to_have_value(EMAIL)
    page.get_by_label(text["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=text["sign_in"], exact=True).click()

    # The emailed sign-in code is the sign-in's own step (idp/mfa); its words are its tests'.
    expect(page).to_have_url(f"{live_server.url}/signin/code")
    axe.assert_accessible(page, f"the emailed sign-in code ({locale})")
    signin_code = mailbox.wait_for(EMAIL, count=3, timeout=MAIL_TIMEOUT)
    assert code_in(signin_code) != code_in(verification)
    page.locator("input[name=code]").fill(code_in(signin_code))
    page.locator("form[action$='/signin/code'] button[type=submit]").click()

    check_page(page, axe, text["account"], f"the account home after the first sign-in ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_errors_and_dead_links_are_accessible(page, live_server, axe, locale):
    """The code form sent empty (error summary, focus) and a link that no longer works."""
    speak(page, live_server, locale)
    page.goto("/register/code")
    page.get_by_role("button", name=TEXT[locale]["register"], exact=True).click()
    expect(page.locator(".error-summary")).to_be_visible()
    axe.assert_accessible(page, f"the code form with every error ({locale})")
    page.goto("/register/activate/not-a-real-link")
    axe.assert_accessible(page, f"an activation link that does not work ({locale})")
    page.goto("/register/confirm")
    axe.assert_accessible(page, f"confirm your registration, from another browser ({locale})")


REFUSALS = {
    "fr": {
        "wrong_address": "Utilisez l'adresse courriel à laquelle l'invitation a été envoyée.",
        "new_code": "Demander un nouveau code",
        "wait": "Nous vous avons envoyé un code il y a un instant.",
        "wrong_code": "Ce code est incorrect ou expiré.",
        "expired": "Cette invitation est expirée",
        "revoked": "Cette invitation a été retirée",
        "used": "Cette invitation a déjà été utilisée",
    },
    "en": {
        "wrong_address": "Use the email address this invitation was sent to.",
        "new_code": "Request a new code",
        "wait": "We sent you a code only a moment ago.",
        "wrong_code": "This code is incorrect or has expired.",
        "expired": "This invitation has expired",
        "revoked": "This invitation was withdrawn",
        "used": "This invitation was already used",
    },
}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_link_form_with_another_address_is_accessible(page, live_server, mailbox, axe, locale):
    text, refusal = TEXT[locale], REFUSALS[locale]
    speak(page, live_server, locale)
    invite(live_server.app, email=EMAIL, locale=locale)
    page.goto(path_of_link(mailbox.wait_for(EMAIL), "/register/invitation/"))
    page.get_by_label(text["email"], exact=True).fill("someone.else@example.ca")
    page.get_by_role("button", name=text["next"]).click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text(refusal["wrong_address"])
    axe.assert_accessible(page, f"the link form, another address ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_confirm_page_after_a_wait_notice_and_a_wrong_code_is_accessible(page, live_server, mailbox, axe, locale):
    text, refusal = TEXT[locale], REFUSALS[locale]
    speak(page, live_server, locale)
    invite(live_server.app, kind="code", email=EMAIL, locale=locale)
    code = invitation_code(mailbox.wait_for(EMAIL))
    page.goto("/register/code")
    page.get_by_label(text["invitation_code"], exact=True).fill(code)
    page.get_by_label(text["email"], exact=True).fill(EMAIL)
    page.get_by_label(text["given_name"], exact=True).fill("Zoé")
    page.get_by_label(text["family_name"], exact=True).fill("Citoyenne")
    page.get_by_label(text["phone"], exact=True).fill("514 555-0123")
    set_password(page, text)
    solve_robot(page, text)
    page.get_by_label(text["consent"]).check()
    page.get_by_role("button", name=text["register"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["confirm_heading"])

    # "Request a new code" within the 30 s: the notice says to wait.
    page.get_by_role("button", name=refusal["new_code"], exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(refusal["wait"])
    axe.assert_accessible(page, f"confirm your registration, wait notice ({locale})")

    verification = code_in(mailbox.wait_for(EMAIL, count=2, timeout=MAIL_TIMEOUT))
    page.get_by_label(text["verification_code"], exact=True).fill(f"{(int(verification) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name=text["confirm"], exact=True).click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text(refusal["wrong_code"])
    axe.assert_accessible(page, f"confirm your registration, wrong code ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_expired_withdrawn_and_used_invitations_are_accessible(page, live_server, mailbox, clock, axe, locale):
    from idp.context import app_context
    from idp.extensions import db
    from idp.invitations.models import Invitation
    from idp.invitations.services import InvitationService

    refusal = REFUSALS[locale]
    speak(page, live_server, locale)
    app = live_server.app
    links = {}
    for state in ("revoked", "used", "expired"):
        address = f"{state}@example.ca"
        invitation_id = invite(app, email=address, locale=locale)
        links[state] = (invitation_id, path_of_link(mailbox.wait_for(address), "/register/invitation/"))
    with app.app_context():
        ctx = app_context()
        InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher).revoke(links["revoked"][0])
        db.session.get(Invitation, links["used"][0]).accepted_at = ctx.clock()
        db.session.commit()
    for state in ("revoked", "used"):
        page.goto(links[state][1])
        expect(page.get_by_role("heading", level=1)).to_have_text(refusal[state])
        axe.assert_accessible(page, f"a {state} invitation ({locale})")
    clock.advance(days=15)
    page.goto(links["expired"][1])
    expect(page.get_by_role("heading", level=1)).to_have_text(refusal["expired"])
    axe.assert_accessible(page, f"an expired invitation ({locale})")
