"""Seed 001 through the Flask test client: invitation code email → code form → verification
code email → "Confirm your registration" → asked to sign in, address filled in."""

from __future__ import annotations

import re

from sqlalchemy import select

from idp.accounts.models import User
from idp.extensions import db
from idp.registration.models import Registration
from tests.integration.registration.support import EMAIL, PASSWORD, csrf, csrf_fields, invitation_code, invite
from tests.mail_support import code_in, text_body
from tests.oidc_support import authorization_params, make_client
from tests.robot_support import solve_robot_check


def code_form_data(client, page, code, **overrides):
    data = {"csrf_token": csrf(page.text), "code": code, "email": EMAIL, "given_name": "Zoé",
            "family_name": "Citoyenne", "phone_number": "514 555-0123", "password": PASSWORD,
            "confirm_password": PASSWORD, "accept_terms": "y", "altcha": solve_robot_check(client)}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def register_with_code(client, mailbox, **overrides):
    code = invitation_code(mailbox.wait_for(EMAIL))
    page = client.get("/register/code")
    assert page.status_code == 200
    return client.post("/register/code", data=code_form_data(client, page, code, **overrides))


def confirm_with_code(client, code, email=EMAIL):
    page = client.get("/register/confirm")
    return client.post("/register/confirm", data={"csrf_token": csrf(page.text), "email": email,
                                                  "verification_code": code})


def test_code_journey_ends_on_the_signin_page_with_the_address(app, client, mailbox):
    client.set_cookie("passerelle_lang", "en")
    invite(app, kind="code", locale="en")
    sent = register_with_code(client, mailbox, phone_number="(514) 555-0199")
    assert sent.status_code == 303 and sent.headers["Location"] == "/register/confirm"

    page = client.get("/register/confirm")
    assert "Confirm your registration" in page.text and f'value="{EMAIL}"' in page.text
    message = mailbox.wait_for(EMAIL, count=2)
    assert message["Subject"].endswith("is your Passerelle verification code")
    assert "valid for 30 minutes" in text_body(message)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        assert user.is_pending and user.phone_number == "+15145550199"

    done = confirm_with_code(client, code_in(message))
    assert done.status_code == 303 and done.headers["Location"] == "/register/confirmed"
    ready = client.get("/register/confirmed")
    assert "Your account is ready" in ready.text and EMAIL in ready.text
    to_signin = client.get("/register/signin")
    assert to_signin.status_code == 303 and to_signin.headers["Location"] == "/signin"
    signin = client.get("/signin")
    assert f'value="{EMAIL}"' in signin.text  # the address is filled in
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        assert user.is_active and user.email_verified


def test_registration_from_a_relying_partys_signin_goes_back_to_it(app, client, mailbox):
    rp = make_client(app)
    client.set_cookie("passerelle_lang", "en")
    started = client.get("/authorize", query_string=authorization_params(rp))
    assert started.headers["Location"] == "/signin"
    signin = client.get("/signin")
    assert 'href="/register/code"' in signin.text and "Have an invitation code?" in signin.text
    invite(app, kind="code", locale="en")
    page = client.get("/register/code")
    assert "continue to Portail de test" in page.text
    client.post("/register/code", data=code_form_data(client, page, invitation_code(mailbox.wait_for(EMAIL))))
    confirm_with_code(client, code_in(mailbox.wait_for(EMAIL, count=2)))
    assert client.get("/register/signin").headers["Location"] == "/signin"
    signin = client.get("/signin")
    assert "Sign in to continue to Portail de test" in signin.text and f'value="{EMAIL}"' in signin.text


def test_wrong_verification_codes_are_counted_and_then_refused(app, client, mailbox):
    invite(app, kind="code", locale="en")
    register_with_code(client, mailbox)
    right = code_in(mailbox.wait_for(EMAIL, count=2))
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = confirm_with_code(client, wrong)
        assert response.status_code == 422
    assert "incorrect or has expired" in response.text or "incorrect ou expiré" in response.text
    assert confirm_with_code(client, right).status_code == 422  # burned after five tries
    with app.app_context():
        assert db.session.scalar(select(Registration.attempts)) == 5


def test_request_a_new_code_after_the_cooldown(app, client, mailbox, clock):
    client.set_cookie("passerelle_lang", "en")
    invite(app, kind="code", locale="en")
    register_with_code(client, mailbox)
    first = code_in(mailbox.wait_for(EMAIL, count=2))
    page = client.get("/register/confirm")
    tokens = csrf_fields(page.text)
    too_soon = client.post("/register/confirm/new-code", data={"new-code-csrf_token": tokens["new-code-csrf_token"]})
    assert too_soon.status_code == 200 and "Wait 30 seconds" in too_soon.text
    clock.advance(seconds=30)
    again = client.post("/register/confirm/new-code", data={"new-code-csrf_token": tokens["new-code-csrf_token"]})
    assert "We sent a new code to zoe@example.ca" in again.text
    second = code_in(mailbox.wait_for(EMAIL, count=3))
    if second != first:
        assert confirm_with_code(client, first).status_code == 422
    assert confirm_with_code(client, second).status_code == 303


def test_new_code_from_another_browser_answers_the_same_for_any_address(app, client, mailbox):
    client.set_cookie("passerelle_lang", "en")
    page = client.get("/register/confirm")
    tokens = csrf_fields(page.text)
    answers = []
    for email in ("nobody@example.ca", EMAIL):
        response = client.post("/register/confirm/new-code", data={
            "new-code-csrf_token": tokens["new-code-csrf_token"], "new-code-email": email})
        text = re.sub(r'name="([\w-]*csrf_token)" type="hidden" value="[^"]+"', "CSRF", response.text)
        answers.append((response.status_code, text.replace(email, "ADDRESS")))
    assert answers[0] == answers[1]
    assert "If a registration is waiting for confirmation at this address" in answers[0][1]


def test_back_to_confirm_after_confirming_shows_the_account_is_ready(app, client, mailbox):
    invite(app, kind="code", locale="en")
    register_with_code(client, mailbox)
    assert confirm_with_code(client, code_in(mailbox.wait_for(EMAIL, count=2))).status_code == 303
    assert client.get("/register/confirm").headers["Location"] == "/register/confirmed"
