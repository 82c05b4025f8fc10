"""The console through the test client (issue 16): hidden without a role, behind a recent
security key (step-up through the sign-in, its own shorter session), the key asked again
before a destructive action, a reason and a CSRF token on every action, and bad input a
clear page, never a 500."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from idp.console.roles import OPERATOR, SERVICE_DESK, RoleService
from idp.context import app_context
from idp.extensions import db
from idp.mfa.models import WebAuthnCredential
from idp.signin.models import UserSession
from tests.console_support import (
    APP_AMR,
    add_key,
    create_person,
    find_person,
    make_agent,
    sign_in_as,
)
from tests.oidc_support import csrf_token
from tests.webauthn_support import unb64url

pytestmark = pytest.mark.settings(MFA_REQUIRED=True)


def tags(app, tag: EventTag) -> list[SecurityEvent]:
    with app.app_context():
        return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(tag))))


def test_someone_without_a_role_gets_404(app, client, person_id):
    sign_in_as(app, client, person_id)
    for path in ("/admin", "/admin/", f"/admin/people/{person_id}", f"/admin/people/{person_id}/disable",
                 "/admin/organizations", "/admin/requests"):
        assert client.get(path).status_code == 404
    assert client.post("/admin/", data={}).status_code in (400, 404)  # no CSRF token: refused before anything


def test_anonymous_is_sent_to_sign_in_like_any_signed_in_page(client):
    response = client.get("/admin/")
    assert response.status_code == 303 and "/admin" not in response.headers["Location"]


def test_a_recent_key_opens_the_console(app, client, desk_id):
    sign_in_as(app, client, desk_id, key_age=60)
    page = client.get("/admin/")
    assert page.status_code == 200 and "Find a person" in page.text
    assert "Name (operators only)" not in page.text  # the service desk searches by exact address
    assert len(tags(app, EventTag.CONSOLE_SIGNED_IN)) == 1


def test_a_key_older_than_15_minutes_leads_to_the_step_up(app, client, desk_id, clock):
    sign_in_as(app, client, desk_id, key_age=15 * 60 + 1)
    response = client.get("/admin/")
    assert response.status_code == 303 and response.headers["Location"] == "/signin/second-factor"
    assert client.get("/signin/second-factor").headers["Location"] == "/signin/security-key"


def test_two_factor_without_a_key_leads_to_the_step_up(app, client, desk_id):
    sign_in_as(app, client, desk_id, amr=APP_AMR)
    response = client.get("/admin/")
    assert response.status_code == 303 and response.headers["Location"] == "/signin/second-factor"


def test_an_agent_without_a_key_is_told_to_add_one(app, client):
    agent_id = make_agent(app, "nokey@example.ca", SERVICE_DESK, with_key=False)
    sign_in_as(app, client, agent_id, amr=APP_AMR)
    page = client.get("/admin/")
    assert page.status_code == 403 and "A security key is required" in page.text


def test_the_step_up_asks_only_for_the_key_and_comes_back(app, client, clock):
    from tests.webauthn_support import SoftwareAuthenticator

    key = SoftwareAuthenticator("http://127.0.0.1:5000", "127.0.0.1")
    with app.app_context():
        user = create_person("agent@example.ca")
        add_key(user, key)
        RoleService(db.session, app_context().clock).grant(user, OPERATOR)
        db.session.commit()
        agent_id = user.id
    sign_in_as(app, client, agent_id, key_age=3600)
    assert client.get("/admin/people/1").headers["Location"] == "/signin/second-factor"
    client.get("/signin/second-factor")
    page = client.get("/signin/security-key")
    data_csrf = re.search(r'data-csrf-token="([^"]+)"', page.text).group(1)
    options = client.post("/signin/security-key/options", headers={"X-CSRFToken": data_csrf, "Accept": "application/json"})
    answer = key.get(unb64url(options.get_json()["publicKey"]["challenge"]))
    response = client.post("/signin/security-key", data={"csrf_token": csrf_token(page.text), "credential": json.dumps(answer)})
    while response.status_code == 303 and not response.headers["Location"].startswith("/admin"):
        response = client.get(response.headers["Location"])
    assert response.headers["Location"] == "/admin/people/1"
    assert client.get("/admin/people/1").status_code == 200
    with app.app_context():
        latest = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
        assert latest.acr.endswith("mfa-phr") and latest.auth_time == clock()


def test_the_console_session_is_its_own_and_shorter(app, client, desk_id, clock):
    sign_in_as(app, client, desk_id)
    assert client.get("/admin/").status_code == 200
    clock.advance(seconds=500)
    assert client.get("/admin/").status_code == 200
    clock.advance(seconds=500)  # the key is 1,000 s old: the open console session goes on
    assert client.get("/admin/").status_code == 200
    clock.advance(seconds=601)  # idle longer than CONSOLE_SESSION_IDLE_TIMEOUT
    assert client.get("/admin/").status_code == 303


def test_leaving_the_console_ends_its_session(app, client, desk_id, clock):
    sign_in_as(app, client, desk_id)
    page = client.get("/admin/")
    assert client.post("/admin/sign-out", data={"csrf_token": csrf_token(page.text)}).status_code == 303
    clock.advance(seconds=16 * 60)
    assert client.get("/admin/").status_code == 303  # back through the key


def test_service_desk_cannot_search_by_name(app, client, desk_id, person_id):
    sign_in_as(app, client, desk_id)
    page = client.get("/admin/")
    response = client.post("/admin/", data={"csrf_token": csrf_token(page.text), "name": "Citoy"})
    assert response.status_code == 422 and "Only operators can search by name." in response.text
    assert "Zoé" not in response.text


def test_find_by_exact_email_then_see_no_secret(app, client, desk_id, person_id):
    sign_in_as(app, client, desk_id)
    page = client.get("/admin/")
    partial = client.post("/admin/", data={"csrf_token": csrf_token(page.text), "email": "zoe@"})
    assert partial.status_code == 200 and "No account has this exact address." in partial.text
    found = client.post("/admin/", data={"csrf_token": csrf_token(page.text), "email": "ZOE@example.ca"})
    assert found.status_code == 303 and found.headers["Location"] == f"/admin/people/{person_id}"
    person = client.get(found.headers["Location"])
    assert person.status_code == 200
    assert "Security key “Blue key”" in person.text and "Authenticator app" in person.text
    for secret in ("SECRET-TOTP-BYTES", "RECOVERYHASH", "argon2", "passerelle_session"):
        assert secret not in person.text


def test_operator_searches_by_name(app, client, operator_id, person_id):
    sign_in_as(app, client, operator_id)
    page = client.get("/admin/")
    response = client.post("/admin/", data={"csrf_token": csrf_token(page.text), "name": "citoy"})
    assert response.status_code == 200 and f"/admin/people/{person_id}" in response.text


def test_every_action_needs_a_reason_and_csrf(app, client, desk_id, person_id):
    sign_in_as(app, client, desk_id)
    find_person(client, "zoe@example.ca")
    for action in ("end-sessions", "disable", "unlock", "resend-activation"):
        page = client.get(f"/admin/people/{person_id}/{action}")
        assert page.status_code == 200
        assert client.post(f"/admin/people/{person_id}/{action}", data={"reason": "x"}).status_code == 400
        empty = client.post(f"/admin/people/{person_id}/{action}", data={"csrf_token": csrf_token(page.text), "reason": "  "})
        assert empty.status_code == 422 and "Write the reason for this action" in empty.text
    page = client.get(f"/admin/people/{person_id}/reset-two-factor")
    no_note = client.post(f"/admin/people/{person_id}/reset-two-factor", data={
        "csrf_token": csrf_token(page.text), "verification": "callback_known_number", "reason": ""})
    assert no_note.status_code == 422
    no_choice = client.post(f"/admin/people/{person_id}/reset-two-factor", data={
        "csrf_token": csrf_token(page.text), "verification": "<b>x</b>", "reason": "Appel"})
    assert no_choice.status_code == 422 and "Choose how you verified" in no_choice.text
    with app.app_context():
        user = db.session.get(User, person_id)
        assert user.disabled_at is None and user.mfa_enrolled_at is not None


def test_reset_two_factor_then_the_key_is_asked_again(app, client, desk_id, person_id, clock):
    sign_in_as(app, client, desk_id)
    find_person(client, "zoe@example.ca")
    page = client.get(f"/admin/people/{person_id}/reset-two-factor")
    response = client.post(f"/admin/people/{person_id}/reset-two-factor", data={
        "csrf_token": csrf_token(page.text), "verification": "callback_known_number",
        "reason": "<script>alert(1)</script> rappelée"})
    assert response.status_code == 303
    done = client.get(response.headers["Location"])
    assert "Two-factor was reset" in done.text and "<script>alert" not in done.text
    with app.app_context():
        assert db.session.scalar(select(WebAuthnCredential).where(WebAuthnCredential.user_id == person_id)) is None
    [event] = tags(app, EventTag.CONSOLE_TWO_FACTOR_RESET)
    assert event.details["agent_id"] == desk_id and event.details["reason"].endswith("rappelée")
    # That key use confirmed one action: the next destructive one asks for the key again.
    assert client.get(f"/admin/people/{person_id}/disable").headers["Location"] == "/signin/second-factor"
    assert client.get(f"/admin/people/{person_id}").status_code == 200  # reading does not


def test_a_key_older_than_the_confirm_window_is_asked_again_before_disabling(app, client, desk_id, person_id):
    sign_in_as(app, client, desk_id, key_age=301)
    find_person(client, "zoe@example.ca")
    assert client.get("/admin/").status_code == 200
    assert client.get(f"/admin/people/{person_id}/disable").status_code == 303
    page = client.get(f"/admin/people/{person_id}/enable")  # not destructive
    assert page.status_code == 200


def test_an_agent_cannot_act_on_their_own_account(app, client, desk_id):
    sign_in_as(app, client, desk_id)
    page = client.get(f"/admin/people/{desk_id}/end-sessions")
    response = client.post(f"/admin/people/{desk_id}/end-sessions", data={"csrf_token": csrf_token(page.text), "reason": "test"})
    assert response.status_code == 422 and "your own account" in response.text


@pytest.mark.parametrize("path", ["/admin/people/999999", "/admin/people/1/frobnicate", "/admin/people/abc",
                                  "/admin/people/999999/disable"])
def test_bad_paths_are_404_pages(app, client, desk_id, path):
    sign_in_as(app, client, desk_id)
    response = client.get(path)
    assert response.status_code == 404 and "Page not found" in response.text


def test_a_revoked_role_closes_the_console(app, client, desk_id):
    sign_in_as(app, client, desk_id)
    assert client.get("/admin/").status_code == 200
    with app.app_context():
        RoleService(db.session, app_context().clock).revoke(db.session.get(User, desk_id), SERVICE_DESK)
        db.session.commit()
    assert client.get("/admin/").status_code == 404


def test_console_pages_speak_french(app, client, desk_id, person_id):
    sign_in_as(app, client, desk_id)
    find_person(client, "zoe@example.ca")
    client.set_cookie("passerelle_lang", "fr")
    page = client.get(f"/admin/people/{person_id}")
    assert page.status_code == 200 and '<html lang="fr">' in page.text and "Clé de sécurité" in page.text and "Blue key" in page.text


@pytest.mark.settings(MFA_REQUIRED=False)  # the person signs in with the emailed code alone
def test_ending_all_sessions_tells_the_services_and_shows_them_first(app, client, desk_id):
    """The person's session signed into a portal: the person page names it, and ending all
    sessions from the console queues its back-channel logout (idp/logout)."""
    from tests.logout_support import deliveries, logout_client, sign_in_to
    from tests.oidc_support import make_user

    person_id = make_user(app)  # zoe@example.ca, as sign_in_to expects
    portal = logout_client(app, "Portail des établissements", backchannel="https://eed.example/bcl")
    sign_in_to(app.test_client(), portal)
    sign_in_as(app, client, desk_id)
    find_person(client, "zoe@example.ca")
    page = client.get(f"/admin/people/{person_id}")
    assert "Connected services: Portail des établissements" in page.text
    form = client.get(f"/admin/people/{person_id}/end-sessions")
    done = client.post(f"/admin/people/{person_id}/end-sessions",
                       data={"csrf_token": csrf_token(form.text), "reason": "Téléphone volé"})
    assert done.status_code == 303
    assert [delivery.client_id for delivery in deliveries(app)] == [portal.client_id]
    assert "No active session." in client.get(f"/admin/people/{person_id}").text
    [event] = tags(app, EventTag.SESSIONS_ENDED)
    assert event.details["agent_id"] == desk_id and event.details["reason"] == "Téléphone volé"


@pytest.mark.parametrize("data", [{"reason": "x" * 1001}, {"reason": "a\x00b"}, {"reason": ["a", "b"]}])
def test_odd_reasons_get_a_clear_answer(app, client, desk_id, person_id, data):
    sign_in_as(app, client, desk_id)
    find_person(client, "zoe@example.ca")
    form = client.get(f"/admin/people/{person_id}/disable")
    response = client.post(f"/admin/people/{person_id}/disable", data={"csrf_token": csrf_token(form.text), **data})
    assert 400 <= response.status_code < 500 or response.status_code == 303
    with app.app_context():
        assert (db.session.get(User, person_id).disabled_at is None) == (response.status_code != 303)


@pytest.mark.parametrize("email", ["a" * 400 + "@example.ca", "zoe@example.ca\x00", "<script>@example.ca", "é@é"])
def test_odd_searches_get_a_clear_answer(app, client, desk_id, person_id, email):
    sign_in_as(app, client, desk_id)
    page = client.get("/admin/")
    response = client.post("/admin/", data={"csrf_token": csrf_token(page.text), "email": email})
    assert response.status_code in (200, 400, 422) and "<script>@" not in response.text


def test_a_service_desk_agent_cannot_disable_an_operator(app, client, desk_id, operator_id):
    sign_in_as(app, client, desk_id)
    find_person(client, "ops@example.ca")
    form = client.get(f"/admin/people/{operator_id}/disable")
    response = client.post(f"/admin/people/{operator_id}/disable", data={"csrf_token": csrf_token(form.text), "reason": "x"})
    assert response.status_code == 422 and "Only an operator can act on the account of a console agent." in response.text
    with app.app_context():
        assert db.session.get(User, operator_id).disabled_at is None


def test_a_replayed_console_cookie_does_not_confirm_a_second_action(app, client, desk_id, person_id):
    """The key use a destructive action spent is kept server-side (console_key_uses)."""
    sign_in_as(app, client, desk_id)
    find_person(client, "zoe@example.ca")
    form = client.get(f"/admin/people/{person_id}/end-sessions")
    before = client.get_cookie("passerelle_console").value
    done = client.post(f"/admin/people/{person_id}/end-sessions", data={"csrf_token": csrf_token(form.text), "reason": "Vol"})
    assert done.status_code == 303
    client.set_cookie("passerelle_console", before)
    again = client.post(f"/admin/people/{person_id}/disable", data={"csrf_token": csrf_token(form.text), "reason": "Vol"})
    assert again.status_code == 303 and again.headers["Location"] == "/signin/second-factor"
    with app.app_context():
        assert db.session.get(User, person_id).disabled_at is None


def test_two_actions_racing_for_one_key_use_spend_it_once(app, desk_id):
    from idp.console.access import KeyUses

    with app.app_context():
        from idp.signin.sessions import SessionService

        ctx = app_context()
        user_session, _ = SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(
            desk_id, ["pwd", "hwk", "mfa"], "urn:passerelle:acr:mfa-phr", ctx.clock(), None)
        session_id = user_session.id
        uses = KeyUses(db.session, ctx.clock)
        assert not uses.is_spent(session_id)
        assert uses.spend(session_id) and not uses.spend(session_id)
        assert uses.is_spent(session_id)


def test_the_person_sees_on_their_account_page_what_the_service_desk_did(app, client, desk_id, person_id):
    sign_in_as(app, client, desk_id)
    find_person(client, "zoe@example.ca")
    assert client.get(f"/admin/people/{person_id}").status_code == 200
    page = client.get(f"/admin/people/{person_id}/reset-two-factor")
    client.post(f"/admin/people/{person_id}/reset-two-factor", data={
        "csrf_token": csrf_token(page.text), "verification": "in_person_id_document", "reason": "Au comptoir"})
    person_browser = app.test_client()
    sign_in_as(app, person_browser, person_id, amr=["pwd", "email"])
    home = person_browser.get("/account").text
    assert "The service desk looked at your account" in home
    assert "The service desk reset your two-factor authentication after verifying your identity" in home
    assert "Au comptoir" not in home and "Agent" not in home  # neither the note nor the agent's name
