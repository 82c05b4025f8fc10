"""Links and pages that no longer work say what happened and what to do, never a 500, and
reveal nothing about other accounts."""

from __future__ import annotations

import pytest

from idp.context import app_context
from idp.extensions import db
from idp.invitations.models import Invitation
from idp.invitations.services import InvitationService
from idp.registration import services as registration_services
from tests.integration.registration.support import EMAIL, csrf, invitation_link, invite
from tests.mail_support import path_of_link


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("passerelle_lang", "en")


def test_email_links_point_at_the_registration_and_recovery_routes(app):
    with app.test_request_context():
        from flask import url_for

        assert url_for("registration.activate", token="t") == registration_services.ACTIVATE_PATH + "t"
        assert url_for("registration.confirm") == registration_services.CONFIRM_PATH
        assert url_for("signin.password") == registration_services.SIGNIN_PATH
        assert url_for("recovery.cant_sign_in") == registration_services.CANT_SIGN_IN_PATH


def test_unknown_invitation_link(client):
    response = client.get("/register/invitation/not-a-real-token")
    assert response.status_code == 404
    assert "This invitation link does not work" in response.text
    assert client.post("/register/invitation/x", data={}).status_code in (400, 404)


@pytest.mark.parametrize(("change", "status", "heading"), [
    ("expire", 410, "This invitation has expired"),
    ("revoke", 410, "This invitation was withdrawn"),
])
def test_expired_and_revoked_invitations(app, client, mailbox, clock, change, status, heading):
    invitation_id = invite(app, locale="en")
    path = invitation_link(mailbox)
    if change == "expire":
        clock.advance(days=15)
    else:
        with app.app_context():
            ctx = app_context()
            InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher).revoke(invitation_id)
            db.session.commit()
    response = client.get(path)
    assert response.status_code == status and heading in response.text
    assert "ask whoever invited you" in response.text.lower() or "contact them" in response.text


def test_used_invitation_says_sign_in(app, client, mailbox, clock):
    invitation_id = invite(app, locale="en")
    path = invitation_link(mailbox)
    with app.app_context():
        db.session.get(Invitation, invitation_id).accepted_at = clock()
        db.session.commit()
    response = client.get(path)
    assert response.status_code == 410 and "already used" in response.text
    assert 'href="/signin"' in response.text and 'href="/signin/help"' in response.text


def test_other_address_on_the_link_form(app, client, mailbox):
    invite(app, locale="en")
    path = invitation_link(mailbox)
    page = client.get(path)
    response = client.post(path, data={"csrf_token": csrf(page.text), "given_name": "Zoé",
                                       "family_name": "Citoyenne", "email": "someone.else@example.ca"})
    assert response.status_code == 422
    assert "Use the email address this invitation was sent to" in response.text


@pytest.mark.parametrize("token", ["nope", "a" * 300, "%C3%A9t%C3%A9"])
def test_unknown_activation_links(client, token):
    response = client.get(f"/register/activate/{token}")
    assert response.status_code == 404
    assert "This activation link does not work" in response.text and 'href="/signin/help"' in response.text


def test_expired_activation_link(app, client, mailbox, clock):
    invite(app, locale="en")
    path = invitation_link(mailbox)
    page = client.get(path)
    client.post(path, data={"csrf_token": csrf(page.text), "given_name": "Zoé", "family_name": "C", "email": EMAIL})
    activate = path_of_link(mailbox.wait_for(EMAIL, count=2), "/register/activate/")
    clock.advance(hours=24)
    response = client.get(activate)
    assert response.status_code == 410 and "This activation link has expired" in response.text
    assert "Can't sign in?" in response.text


def test_almost_there_without_a_confirmed_link(client):
    response = client.get("/register/password")
    assert response.status_code == 410 and "This page has expired" in response.text
    client.set_cookie("passerelle_registration", "forged")
    assert client.get("/register/password").status_code == 410


def test_confirmed_and_signin_pages_without_a_registration_go_to_signin(client):
    assert client.get("/register/confirmed").headers["Location"] == "/signin"
    assert client.get("/register/signin").headers["Location"] == "/signin"


def test_pages_render_in_french(app, client, mailbox):
    client.set_cookie("passerelle_lang", "fr")
    invite(app)
    page = client.get(invitation_link(mailbox))
    assert '<html lang="fr">' in page.text and "Tous les champs sont obligatoires." in page.text
    assert "Pourquoi s" in page.text



def test_back_to_almost_there_after_finishing_goes_to_the_account(app, client, mailbox):
    from tests.integration.registration.test_link_journey import almost_there, fill_link_form

    invite(app, locale="en")
    fill_link_form(client, invitation_link(mailbox))
    activate = path_of_link(mailbox.wait_for(EMAIL, count=2), "/register/activate/")
    client.post(activate, data={"csrf_token": csrf(client.get(activate).text)})
    assert almost_there(client).status_code == 303
    assert client.get("/register/password").headers["Location"] == "/account"
