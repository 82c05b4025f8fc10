"""A grant's tokens end with the session that made it (RFC 9700 §4.14, checklist SES-*).

Without offline_access, every way a session ends ends its grants' tokens: sign-out, "sign
out everywhere else", a password change on another device, a completed password reset, the
session's idle or absolute expiry, an operator disabling the account. With offline_access
the grant survives sign-out and expiry, but not a password change, a reset or a disabling,
which end every session and every grant of the person (issue 9 item 2)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from idp.cli import main
from idp.extensions import db
from idp.recovery.views import get_recovery_service
from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from tests.integration.oidc.test_code_flow import exchange
from tests.oidc_support import PASSWORD, SignIn, authorization_params, basic_auth, csrf_token, make_client, make_user

NEW_PASSWORD = "Nouveau-Mot-De-Passe-Solide-42"
SCOPES = {"session": "openid profile", "offline": "openid profile offline_access"}


def grant(http, rp, scope: str, **extra) -> dict:
    code = SignIn(http).code_for(authorization_params(rp, scope=scope, **extra))["code"]
    response = exchange(http, rp, code)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def state_of(http, rp, tokens) -> dict[str, bool]:
    """Which of the grant's tokens still work: refresh (then the rotated tokens are the ones
    checked), UserInfo, introspection of the access and refresh tokens."""
    refreshed = http.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                          headers=basic_auth(rp))
    if refreshed.status_code == 200:
        tokens.update(refreshed.get_json())
    else:
        assert refreshed.get_json()["error"] == "invalid_grant"
    userinfo = http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    introspected = {
        kind: http.post("/introspect", data={"token": tokens[kind]}, headers=basic_auth(rp)).get_json()["active"]
        for kind in ("access_token", "refresh_token")
    }
    return {
        "refresh": refreshed.status_code == 200,
        "userinfo": userinfo.status_code == 200,
        "access_introspection": introspected["access_token"],
        "refresh_introspection": introspected["refresh_token"],
    }


ALIVE = dict.fromkeys(("userinfo", "access_introspection", "refresh_introspection", "refresh"), True)
ENDED = dict.fromkeys(ALIVE, False)


@pytest.fixture
def rp(app):
    make_user(app)
    return make_client(app)


def post_form(http, path: str, page_path: str, **data):
    page = http.get(page_path)
    return http.post(path, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))})


# Sign-out and expiry: the session's grants end, offline_access survives -----------------------

@pytest.mark.parametrize("kind", ["session", "offline"])
def test_signing_out_of_passerelle_ends_the_sessions_grants(app, client, rp, kind):
    tokens = grant(client, rp, SCOPES[kind])
    assert state_of(client, rp, tokens) == ALIVE
    assert post_form(client, "/signout", "/signout").status_code == 303
    assert state_of(client, rp, tokens) == (ALIVE if kind == "offline" else ENDED)


@pytest.mark.parametrize("kind", ["session", "offline"])
def test_idle_expiry_of_the_session_ends_its_grants(app, client, clock, rp, kind):
    tokens = grant(client, rp, SCOPES[kind])
    clock.advance(app.config["SESSION_IDLE_TIMEOUT"] - 60)
    assert state_of(client, rp, tokens) == ALIVE  # the refresh gave a fresh access token
    clock.advance(61)
    assert state_of(client, rp, tokens) == (ALIVE if kind == "offline" else ENDED)


@pytest.mark.settings(SESSION_IDLE_TIMEOUT=3600, SESSION_MAX_AGE=7200)
def test_absolute_expiry_of_the_session_ends_its_grants(app, client, clock, rp):
    tokens = grant(client, rp, SCOPES["session"])
    for _ in range(3):
        clock.advance(1800)
        client.get("/account")  # the person keeps using Passerelle: never idle
        assert state_of(client, rp, tokens) == ALIVE
    clock.advance(1801)
    assert state_of(client, rp, tokens) == ENDED


def test_sign_out_everywhere_else_ends_the_other_sessions_grants(app, client, rp):
    tokens = grant(client, rp, SCOPES["session"])
    other_device = app.test_client()
    mine = grant(other_device, rp, SCOPES["session"])
    response = post_form(other_device, "/account/sessions/end-others", "/account/sessions")
    assert response.status_code == 303
    assert state_of(client, rp, tokens) == ENDED
    assert state_of(other_device, rp, mine) == ALIVE  # the session that asked goes on


def test_a_new_sign_in_of_the_same_person_keeps_the_grants(app, client, rp):
    """prompt=login ends the session for a new one of the same person: the person's session
    goes on, so do its grants."""
    tokens = grant(client, rp, SCOPES["session"])
    grant(client, rp, SCOPES["session"], prompt="login")
    assert state_of(client, rp, tokens) == ALIVE


# Password change, reset and disabling: every session and grant ends, offline_access too --------

@pytest.mark.parametrize("kind", ["session", "offline"])
def test_a_password_change_on_another_device_ends_every_grant(app, client, rp, kind):
    tokens = grant(client, rp, SCOPES[kind])
    other_device = app.test_client()
    mine = grant(other_device, rp, SCOPES[kind])
    response = post_form(other_device, "/account/password", "/account/password", current_password=PASSWORD,
                         password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert state_of(client, rp, tokens) == ENDED
    assert state_of(other_device, rp, mine) == ENDED  # issued under the old password too
    assert other_device.get("/account").status_code == 200  # the device that changed it stays signed in


@pytest.mark.parametrize("kind", ["session", "offline"])
def test_a_completed_password_reset_ends_every_session_and_grant(app, client, rp, kind):
    tokens = grant(client, rp, SCOPES[kind])
    with app.test_request_context():
        service = get_recovery_service()
        user = db.session.scalar(db.select(User))
        plain = service.issue_reset(user)
        service.reset_password(plain, NEW_PASSWORD, locale="fr")
        db.session.commit()
    assert state_of(client, rp, tokens) == ENDED
    assert client.get("/account").status_code in (302, 303)  # signed out here too


@pytest.mark.parametrize("kind", ["session", "offline"])
def test_an_operator_disabling_the_account_ends_every_session_and_grant(app, client, rp, kind):
    tokens = grant(client, rp, SCOPES[kind])
    result = CliRunner().invoke(main, ["users", "disable", "--email", "zoe@example.ca"], obj=app, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert state_of(client, rp, tokens) == ENDED
    assert client.get("/account").status_code in (302, 303)
    # Enabling the account again does not bring the old tokens back.
    result = CliRunner().invoke(main, ["users", "enable", "--email", "zoe@example.ca"], obj=app, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert state_of(client, rp, tokens) == ENDED
    # Both are security events the person sees on their account home.
    with app.app_context():
        tags = db.session.scalars(db.select(SecurityEvent.tag).order_by(SecurityEvent.id)).all()
    assert tags[-2:] == [EventTag.ACCOUNT_DISABLED, EventTag.ACCOUNT_ENABLED]


@pytest.mark.parametrize("kind", ["session", "offline"])
def test_a_code_whose_session_ended_is_not_redeemed(app, client, rp, kind):
    code = SignIn(client).code_for(authorization_params(rp, scope=SCOPES[kind]))["code"]
    assert post_form(client, "/signout", "/signout").status_code == 303
    response = exchange(client, rp, code)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_a_step_up_keeps_the_grants_of_the_session_it_replaces(app, client, clock, rp):
    from tests.integration.mfa.test_step_up import add_app, request_with, step_up_with_app
    from idp.signin.assurance import ACR_MFA

    tokens = grant(client, rp, SCOPES["session"])
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id))
    secret = add_app(app, user_id, clock)
    response, _ = request_with(client, make_client(app, name="Portail exigeant"), acr_values=ACR_MFA)
    response = step_up_with_app(client, response, secret, clock)
    assert response.status_code == 303 and "code=" in response.headers["Location"]
    assert state_of(client, rp, tokens) == ALIVE
