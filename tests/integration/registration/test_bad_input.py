"""Every bad input on every registration form gets a translated message, never a 500
(issue 3, Tests): long strings, NUL bytes, bytes that are not UTF-8, missing fields,
Unicode names."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.registration.support import EMAIL, csrf, invitation_link, invite
from tests.mail_support import path_of_link

FIELDS = ["given_name", "family_name", "email", "code", "phone_number", "password", "confirm_password",
          "accept_terms", "altcha", "verification_code", "new-code-email"]
nasty = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "\x00", "a\x00b", "é" * 300, "a" * 5000, "\r\nBcc: x@evil.example", "李小龙",
                     "O'Brien-Tremblay", "<script>alert(1)</script>", "123456", "+1 514 555 0123", "y", "on",
                     "ABCD-EFGH-JKMN-PQRS", "zoe@example.ca", "ZOE@EXAMPLE.CA", "@", "a@b", "\u202e", "\ufeff"]),
)
form_data = st.dictionaries(st.sampled_from(FIELDS), nasty, max_size=9)
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
PAGES = ["/register/code", "/register/confirm", "/register/confirm/new-code", "/register/password",
         "/register/activate/x", "/register/invitation/x"]


# Many posts from one address in a moment: the per-address limits are not what is tested here.
pytestmark = pytest.mark.settings(RATELIMIT_ENABLED=False)


def post_with_csrf(client, path, data):
    page = client.get("/register/confirm")
    return client.post(path, data={"csrf_token": csrf(page.text), "new-code-csrf_token": csrf(page.text), **data})


@FUZZ
@given(path=st.sampled_from(PAGES), data=form_data)
def test_registration_forms_never_500(client, path, data):
    response = post_with_csrf(client, path, data)
    assert response.status_code < 500, response.text[:300]


@FUZZ
@given(data=form_data)
def test_link_form_never_500(app, client, mailbox, data):
    path = getattr(app, "_fuzz_invitation", None)
    if path is None:
        invite(app, locale="en")
        path = app._fuzz_invitation = invitation_link(mailbox)
    response = post_with_csrf(client, path, data)
    assert response.status_code < 500, response.text[:300]


@pytest.mark.parametrize("body", [
    b"csrf_token=x&email=\xff\xfe&code=\xc3",
    b"given_name=%FF%FE&family_name=%C0%80&email=a%00b",
    b"\xff" * 100,
])
def test_bytes_that_are_not_utf8(client, body):
    for path in ("/register/code", "/register/confirm"):
        response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500


def test_each_missing_field_of_the_code_form_gets_its_own_message(client):
    client.set_cookie("passerelle_lang", "en")
    response = post_with_csrf(client, "/register/code", {})
    assert response.status_code == 422
    for message in ("Enter the invitation code from your invitation email.", "Enter your email address.",
                    "Enter your given name.", "Enter your family name.", "Enter your phone number.",
                    "Enter a password.", "Enter your password again.",
                    "you must consent to the terms of use and the privacy policy"):
        assert message in response.text


def test_each_missing_field_in_french(client):
    client.set_cookie("passerelle_lang", "fr")
    response = post_with_csrf(client, "/register/code", {})
    assert response.status_code == 422 and "Il y a un problème" in response.text
    assert "Enter your" not in response.text  # every message is translated


def test_bad_values_get_specific_messages(client):
    client.set_cookie("passerelle_lang", "en")
    response = post_with_csrf(client, "/register/code", {
        "code": "x" * 65, "email": "not-an-address", "given_name": "a" * 201, "family_name": "Line\nbreak",
        "phone_number": "123", "password": "short", "confirm_password": "other"})
    assert response.status_code == 422
    for message in ("This invitation code is too long", "Enter an email address in the correct format",
                    "Your given name must have no more than 200 characters",
                    "Your family name must not contain line breaks", "Enter a valid phone number",
                    "Your password must have at least 14 characters"):
        assert message in response.text, message
    confirm = post_with_csrf(client, "/register/confirm", {"email": EMAIL, "verification_code": "12345"})
    assert confirm.status_code == 422 and "Enter the 6 digits of the verification code" in confirm.text


def test_unicode_names_are_welcome(app, client, mailbox):
    client.set_cookie("passerelle_lang", "en")
    invite(app, locale="en", given_name=None, family_name=None)
    path = invitation_link(mailbox)
    response = post_with_csrf(client, path, {"given_name": "Zoé-李", "family_name": "N’Guessan O'Brien",
                                             "email": EMAIL})
    assert response.status_code == 303


@FUZZ
@given(data=form_data)
def test_almost_there_never_500(app, client, mailbox, data):
    """With a confirmed activation link, so the form itself takes the input."""
    if not getattr(app, "_fuzz_activated", False):
        invite(app, locale="en")
        path = invitation_link(mailbox)
        post_with_csrf(client, path, {"given_name": "Zoé", "family_name": "Citoyenne", "email": EMAIL})
        activate = path_of_link(mailbox.wait_for(EMAIL, count=2), "/register/activate/")
        assert post_with_csrf(client, activate, {}).status_code == 303
        app._fuzz_activated = True
    response = post_with_csrf(client, "/register/password", data)
    # 400: a NUL byte, refused before any view (idp/web/input_guard.py) with a translated page.
    assert response.status_code in (303, 400, 410, 422), response.text[:300]
