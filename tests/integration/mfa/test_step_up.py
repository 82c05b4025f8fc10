"""Step-up (issue 4): a relying party that asks for two-factor (acr_values, the claims
parameter, or the operator's per-client minimum) gets it. A session below the level is asked
for the missing factor only, not refused and not asked for the password again; a person with
no such factor is told so and the client gets unmet_authentication_requirements."""

from __future__ import annotations

import json

import pyotp
import pytest

from idp.accounts.models import User
from idp.context import app_context
from idp.extensions import db
from idp.mfa.authenticator_app import TotpService
from idp.mfa.base import FactorContext
from idp.accounts.throttle import SigninThrottle
from idp.signin.assurance import ACR_MFA, ACR_PASSWORD_EMAIL
from tests.integration.oidc.test_code_flow import decode_id_token
from tests.integration.oidc.test_code_flow import exchange as token_response
from tests.oidc_support import PASSWORD, SignIn, authorization_params, csrf_token, make_client, make_user, pkce_pair, query_of

EMAIL = "zoe@example.ca"
CONTEXT = FactorContext(transaction_id=None, locale="en")


def exchange(client, oidc_client, code, verifier) -> dict:
    """The ID token's claims for this code."""
    response = token_response(client, oidc_client, code, verifier)
    assert response.status_code == 200, response.text
    return decode_id_token(client, response.get_json()["id_token"])


def add_app(app, user_id: int, clock) -> str:
    """The person sets up an authenticator app (as from the account page); returns its key."""
    with app.app_context():
        ctx = app_context()
        service = TotpService(db.session, ctx.settings, ctx.clock, ctx.secret_box, SigninThrottle(db.session, ctx.settings, ctx.clock))
        user = db.session.get(User, user_id)
        secret = service.begin_enrolment(user).grouped_secret.replace(" ", "")
        service.confirm_enrolment(user, pyotp.TOTP(secret).at(clock()), CONTEXT)
        user.mfa_enrolled_at = clock()
        user.email_code_enrolled_at = clock()
        user.mfa_default_factor = "email_code"
        db.session.commit()
    clock.advance(seconds=30)
    return secret


def sign_in_weakly(client, oidc_client) -> None:
    """A first sign-in for the portal with the emailed code: a pwd-email session."""
    verifier, challenge = pkce_pair()
    params = authorization_params(oidc_client, code_challenge=challenge, code_challenge_method="S256")
    code = SignIn(client).code_for(params, email=EMAIL)["code"]
    claims = exchange(client, oidc_client, code, verifier)
    assert claims["acr"] == ACR_PASSWORD_EMAIL


def request_with(client, oidc_client, **extra):
    verifier, challenge = pkce_pair()
    params = authorization_params(oidc_client, code_challenge=challenge, code_challenge_method="S256", **extra)
    return client.get("/authorize", query_string=params), verifier


def step_up_with_app(client, response, secret, clock):
    """Follow the sign-in's steps to the client, typing the app's code: a step-up goes
    straight to the app's page (no password asked)."""
    locations = []
    while response.status_code in (302, 303) and not response.headers["Location"].startswith("https://"):
        locations.append(response.headers["Location"])
        if response.headers["Location"].endswith("/signin/app"):
            page = client.get("/signin/app")
            response = client.post("/signin/app", data={"csrf_token": csrf_token(page.text), "code": pyotp.TOTP(secret).at(clock())})
        elif response.headers["Location"].endswith("/signin/terms"):
            page = client.get("/signin/terms")
            response = client.post("/signin/terms", data={"decision": "accept", "csrf_token": csrf_token(page.text)})
        else:
            response = client.get(response.headers["Location"])
    assert "/signin" not in [location.split("?")[0] for location in locations], "the password was not asked again"
    return response


@pytest.fixture
def user_id(app):
    return make_user(app)


@pytest.mark.parametrize("how", ["acr_values", "claims", "client_minimum"])
def test_a_weaker_session_is_stepped_up_to_two_factor(app, client, user_id, clock, mailbox, how):
    sign_in_weakly(client, make_client(app, name="Another portal"))
    oidc_client = make_client(app, min_acr=ACR_MFA if how == "client_minimum" else None)
    secret = add_app(app, user_id, clock)
    extra = {
        "acr_values": {"acr_values": ACR_MFA},
        "claims": {"claims": json.dumps({"id_token": {"acr": {"essential": True, "values": [ACR_MFA]}}})},
        "client_minimum": {},
    }[how]
    response, verifier = request_with(client, oidc_client, **extra)
    assert response.headers["Location"] != "/signin"
    response = step_up_with_app(client, response, secret, clock)
    assert response.status_code == 303 and response.headers["Location"].startswith(oidc_client.redirect_uri)
    claims = exchange(client, oidc_client, query_of(response.headers["Location"])["code"], verifier)
    assert claims["acr"] == ACR_MFA
    assert {"pwd", "email", "otp", "mfa"} <= set(claims["amr"])
    # The stepped-up session now meets the level: the next request needs no interaction.
    response, _ = request_with(client, oidc_client, acr_values=ACR_MFA, prompt="none")
    assert "code=" in response.headers["Location"]


def test_prompt_none_with_a_weaker_session_is_interaction_required(app, client, user_id, clock, mailbox):
    oidc_client = make_client(app)
    sign_in_weakly(client, oidc_client)
    response, _ = request_with(client, oidc_client, acr_values=ACR_MFA, prompt="none")
    assert query_of(response.headers["Location"])["error"] == "interaction_required"


def test_without_a_strong_enough_method_the_client_learns_the_requirement_was_unmet(app, client, user_id, clock, mailbox):
    client.set_cookie("passerelle_lang", "en")
    oidc_client = make_client(app)
    sign_in_weakly(client, oidc_client)
    response, _ = request_with(client, oidc_client, acr_values=ACR_MFA)
    assert response.headers["Location"] == "/signin/second-factor"
    page = client.get("/signin/second-factor")
    assert page.status_code == 200 and "needs a stronger way to confirm it is you" in page.text
    response = client.post("/signin/second-factor/unavailable", data={"csrf_token": csrf_token(page.text)})
    while response.headers["Location"].startswith("/"):
        response = client.get(response.headers["Location"])
    assert query_of(response.headers["Location"])["error"] == "unmet_authentication_requirements"


def test_an_unknown_acr_value_is_ignored_and_the_token_says_what_was_reached(app, client, user_id, clock, mailbox):
    oidc_client = make_client(app)
    verifier, challenge = pkce_pair()
    params = authorization_params(oidc_client, code_challenge=challenge, code_challenge_method="S256",
                                  acr_values="urn:example:unknown")
    code = SignIn(client).code_for(params, email=EMAIL)["code"]
    assert exchange(client, oidc_client, code, verifier)["acr"] == ACR_PASSWORD_EMAIL


def test_a_fresh_sign_in_asks_for_the_factor_that_reaches_the_level(app, client, user_id, clock, mailbox):
    oidc_client = make_client(app)
    secret = add_app(app, user_id, clock)  # default: the emailed code
    response, verifier = request_with(client, oidc_client, acr_values=ACR_MFA)
    page = client.get(response.headers["Location"])
    response = client.post("/signin", data={"email": EMAIL, "password": PASSWORD,
                                             "csrf_token": csrf_token(page.text)})
    assert client.get(response.headers["Location"]).headers["Location"] == "/signin/app"
    response = step_up_with_app(client, client.get("/signin/second-factor"), secret, clock)
    claims = exchange(client, oidc_client, query_of(response.headers["Location"])["code"], verifier)
    assert claims["acr"] == ACR_MFA and "email" not in claims["amr"]


def test_clients_refuse_an_unknown_minimum(app):
    from idp.oidc.errors import InvalidClientMetadata

    with pytest.raises(InvalidClientMetadata):
        make_client(app, min_acr="urn:example:gold")


@pytest.mark.settings(MFA_REQUIRED=True)
def test_a_new_person_at_a_client_that_requires_two_factor_sets_up_then_uses_the_app(app, client, user_id, clock, mailbox):
    """Address first (emailed code), then the set-up, then a code from the new app: the
    client gets two-factor, never a page that says the person has no such method."""
    import re

    from tests.integration.mfa.test_two_factor import codes_on, secret_on

    oidc_client = make_client(app)
    response, verifier = request_with(client, oidc_client, acr_values=ACR_MFA)
    # Password and emailed code, by hand.
    page = client.get(response.headers["Location"])
    response = client.post("/signin", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_token(page.text)})
    from tests.signin_support import wait_for_signin_code

    assert client.get(response.headers["Location"]).headers["Location"] == "/signin/code"
    code_page = client.get("/signin/code")
    response = client.post("/signin/code", data={"csrf_token": csrf_token(code_page.text),
                                                 "code": wait_for_signin_code(EMAIL, 0)})
    assert response.headers["Location"] == "/signin/setup"
    choice = client.get("/signin/setup")
    client.post("/signin/setup", data={"csrf_token": csrf_token(choice.text), "method": "totp"})
    setup_page = client.get("/signin/setup/app")
    secret = secret_on(setup_page.text)
    codes_page = client.post("/signin/setup/app", data={"csrf_token": csrf_token(setup_page.text),
                                                        "code": pyotp.TOTP(secret).at(clock())})
    assert len(codes_on(codes_page.text)) == 10
    response = client.post("/signin/setup/done", data={"csrf_token": csrf_token(codes_page.text)})
    assert client.get(response.headers["Location"]).headers["Location"] == "/signin/app"
    # The app may still show the code that confirmed it: the page says to wait for the next.
    assert "affiche peut-être encore le code que vous avez utilisé" in client.get("/signin/app").text
    clock.advance(seconds=30)
    response = step_up_with_app(client, client.get("/signin/second-factor"), secret, clock)
    claims = exchange(client, oidc_client, query_of(response.headers["Location"])["code"], verifier)
    assert claims["acr"] == ACR_MFA and {"pwd", "email", "otp", "mfa"} <= set(claims["amr"])
    assert re.fullmatch(r"[A-Za-z0-9_-]+", claims["sub"])


def test_a_new_person_sets_up_two_factor_for_a_client_that_requires_it_even_when_it_is_optional(
    app, client, user_id, clock, mailbox,
):
    """MFA_REQUIRED off (the test default): a client that requires two-factor still leads a
    person without a method to the set-up, not to a dead end."""
    oidc_client = make_client(app, min_acr=ACR_MFA)
    response, _ = request_with(client, oidc_client)
    page = client.get(response.headers["Location"])
    response = client.post("/signin", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf_token(page.text)})
    from tests.signin_support import wait_for_signin_code

    client.get(response.headers["Location"])
    code_page = client.get("/signin/code")
    response = client.post("/signin/code", data={"csrf_token": csrf_token(code_page.text),
                                                 "code": wait_for_signin_code(EMAIL, 0)})
    assert response.headers["Location"] == "/signin/setup"
