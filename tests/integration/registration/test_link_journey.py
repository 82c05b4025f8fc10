"""Seed 000 through the Flask test client: invitation email → form → activation email →
confirm button → "Almost there" → signed in, with the real SMTP mailbox."""

from __future__ import annotations

from sqlalchemy import select

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.invitations.models import Invitation
from idp.registration.models import Registration
from idp.terms.models import TermsAcceptance
from tests.integration.registration.support import EMAIL, PASSWORD, csrf, invitation_link, invite
from tests.mail_support import path_of_link, text_body
from tests.robot_support import solve_robot_check


def fill_link_form(client, path, email=EMAIL, given_name="Zoé", family_name="Citoyenne"):
    page = client.get(path)
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf(page.text), "given_name": given_name,
                                   "family_name": family_name, "email": email})


def almost_there(client, password=PASSWORD, confirm=None, accept_terms=True, robot=True):
    page = client.get("/register/password")
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf(page.text), "password": password, "confirm_password": confirm or password}
    if accept_terms:
        data["accept_terms"] = "y"
    if robot:
        data["altcha"] = solve_robot_check(client)
    return client.post("/register/password", data=data)


def test_link_journey_from_invitation_to_account_home(app, client, mailbox):
    client.set_cookie("passerelle_lang", "en")
    invite(app, locale="en")
    path = invitation_link(mailbox)

    form = client.get(path)
    assert "Create your Passerelle account" in form.text
    assert 'value="Zoé"' in form.text and 'value="Citoyenne"' in form.text  # from the invitation
    assert "All fields are required." in form.text
    assert "Why register?" in form.text and "No activation email?" in form.text

    sent = fill_link_form(client, path, email="  ZOE@Example.ca ")  # compared canonically
    assert sent.status_code == 303 and sent.headers["Location"] == path + "/sent"
    check = client.get(sent.headers["Location"])
    assert "Check your email" in check.text and EMAIL in check.text
    assert "up to an hour" in check.text and "spam" in check.text
    assert 'href="/signin/help"' in check.text

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        assert user.activated_at is None and not user.is_active and user.password_hash is None
        assert user.email_verified is False and user.locale == "en"

    activation = mailbox.wait_for(EMAIL, count=2)
    assert activation["Subject"] == "Confirm your email address to activate your Passerelle account"
    assert "valid for 24 hours" in text_body(activation)
    activate_path = path_of_link(activation, "/register/activate/")

    # Opening the link (as a mail scanner does) activates nothing.
    shown = client.get(activate_path)
    assert shown.status_code == 200 and "Confirm my email address" in shown.text
    assert client.get(activate_path).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Registration.verified_at)) is None

    confirmed = client.post(activate_path, data={"csrf_token": csrf(shown.text)})
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/register/password"
    assert client.get(activate_path).status_code == 410  # single use

    page = client.get("/register/password")
    assert "Almost there" in page.text and 'href="/terms"' in page.text and 'href="/privacy"' in page.text
    done = almost_there(client)
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    home = client.get("/account")
    assert home.status_code == 200 and EMAIL in home.text

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        assert user.is_active and user.email_verified and user.password_hash.startswith("$argon2id$")
        invitation = db.session.scalar(select(Invitation))
        assert invitation.accepted_user_id == user.id and invitation.accepted_at is not None
        acceptance = db.session.scalar(select(TermsAcceptance).where(TermsAcceptance.user_id == user.id))
        assert acceptance.locale == "en"
        tags = set(db.session.scalars(select(SecurityEvent.tag).where(SecurityEvent.user_id == user.id)))
        assert str(EventTag.ACCOUNT_REGISTERED) in tags
