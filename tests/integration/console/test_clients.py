"""Relying parties in the console (issue 16): operators only (a service-desk agent gets the
403 page, audited); list, show, register with the rules of `idp clients create` (the secret
shown once, never logged nor audited), edit, rotate the secret with an overlap, disable /
enable, delete behind the key, and initial access tokens. Every action is an audit event
naming the agent, the client and the reason; bad input is a translated form message."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from idp.audit import EventTag, SecurityEvent
from idp.console.roles import OPERATOR, SERVICE_DESK
from idp.context import app_context
from idp.extensions import db
from idp.oidc.clients import ClientService
from idp.oidc.models import Client, InitialAccessToken, Token
from idp.oidc.registration import RegistrationService
from tests.console_support import make_agent, sign_in_as
from tests.oidc_support import authorization_params, basic_auth, csrf_token, make_client

WEB = "https://portal.example.ca/callback"


@pytest.fixture
def operator_id(app):
    return make_agent(app, "ops@example.ca", OPERATOR)


@pytest.fixture
def rp(app):
    return make_client(app, name="Portail <b>des</b> documents",
                       grant_types=("authorization_code", "refresh_token", "client_credentials"))


def events(app, tag: EventTag) -> list[SecurityEvent]:
    with app.app_context():
        return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(tag))))


def get_client(app, client_id: str) -> Client | None:
    with app.app_context():
        client = db.session.scalar(select(Client).where(Client.client_id == client_id))
        if client is not None:
            db.session.expunge(client)
        return client


def hidden_fields(html: str) -> dict[str, str]:
    """The form's hidden inputs: the CSRF token, and the one-time id of the registration,
    rotation and initial-token forms."""
    fields = {"csrf_token": csrf_token(html)}
    for name in ("registration", "once"):
        match = re.search(rf'name="{name}"[^>]*value="([^"]+)"', html) or re.search(
            rf'value="([^"]+)"[^>]*name="{name}"', html)
        if match:
            fields[name] = match.group(1)
    return fields


def post(client, path: str, **data):
    form = client.get(path)
    assert form.status_code == 200, (path, form.status_code)
    return client.post(path, data={**hidden_fields(form.text), **data})


def client_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Client.id)))


def new_client_data(**extra) -> dict:
    data = {"name": "Portail des stages", "redirect_uris": WEB, "grant_authorization_code": "y",
            "grant_refresh_token": "y", "auth_method": "client_secret_basic", "subject_type": "pairwise",
            "scope": "openid profile email", "min_acr": "", "require_pkce": "y", "reason": "Entente signée"}
    return {**data, **extra}


def test_service_desk_gets_the_403_page_on_every_relying_party_page(app, client, rp):
    desk_id = make_agent(app, "desk@example.ca", SERVICE_DESK)
    sign_in_as(app, client, desk_id)
    paths = ["/admin/clients", "/admin/clients/new", f"/admin/clients/{rp.client_id}",
             f"/admin/clients/{rp.client_id}/edit", f"/admin/clients/{rp.client_id}/rotate-secret",
             f"/admin/clients/{rp.client_id}/disable", f"/admin/clients/{rp.client_id}/delete",
             "/admin/initial-tokens", "/admin/initial-tokens/1/revoke"]
    for path in paths:
        page = client.get(path)
        assert page.status_code == 403 and "Not part of your role" in page.text, path
    token = csrf_token(client.get("/admin/clients/new").text)  # the page's own sign-out form
    assert client.post("/admin/clients/new", data={"csrf_token": token, **new_client_data()}).status_code == 403
    assert "Relying parties" not in client.get("/admin/").text
    refused = events(app, EventTag.CONSOLE_ACCESS_REFUSED)
    assert len(refused) == len(paths) + 2 and {event.details["agent_id"] for event in refused} == {desk_id}
    assert get_client(app, rp.client_id).disabled_at is None


def test_people_without_a_role_get_404(app, client, rp):
    from idp.signin.sessions import SessionService
    from tests.oidc_support import make_user

    user_id = make_user(app, "nobody@example.ca")
    with app.app_context():
        ctx = app_context()
        _, handle = SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(
            user_id, ["pwd", "hwk", "mfa"], "mfa-phr", ctx.clock(), "Mozilla/5.0")
        db.session.commit()
    client.set_cookie("passerelle_session", handle)
    assert client.get("/admin/clients").status_code == 404


def test_operator_lists_and_shows_clients_with_markup_escaped(app, client, operator_id, rp):
    sign_in_as(app, client, operator_id)
    listing = client.get("/admin/clients")
    assert listing.status_code == 200 and rp.client_id in listing.text
    assert "<b>des</b>" not in listing.text and "Portail &lt;b&gt;des&lt;/b&gt; documents" in listing.text
    assert "authorization_code, refresh_token, client_credentials" in listing.text
    page = client.get(f"/admin/clients/{rp.client_id}")
    assert page.status_code == 200 and rp.redirect_uri in page.text and "<b>des</b>" not in page.text
    assert rp.client_secret not in page.text
    with app.app_context():
        secret_hash = db.session.scalar(select(Client.secret_hash).where(Client.client_id == rp.client_id))
    assert secret_hash not in page.text and secret_hash not in listing.text
    assert client.get("/admin/clients/nobody").status_code == 404
    assert client.get(f"/admin/clients/{'x' * 300}").status_code == 404
    for path in ("/admin/clients/%00", "/admin/clients/a%00b/edit", "/admin/clients/%00/disable",
                 "/admin/initial-tokens/99999999999999999999/revoke"):
        assert client.get(path).status_code == 404, path


def test_operator_registers_a_client_and_sees_the_secret_once(app, client, operator_id, caplog):
    sign_in_as(app, client, operator_id)
    done = post(client, "/admin/clients/new", **new_client_data())
    # Post/Redirect/Get: reloading the page that shows the secret cannot register again.
    assert done.status_code == 303, done.text[:2000]
    client_id = re.fullmatch(r"/admin/clients/(c[A-Za-z0-9_-]{22})/registered", done.headers["Location"]).group(1)
    shown = client.get(done.headers["Location"])
    assert shown.status_code == 200 and "Relying party registered" in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<code id="client-secret">([^<]+)</code>', shown.text).group(1)
    with app.app_context():
        ctx = app_context()
        service = ClientService(db.session, ctx.settings, ctx.clock, ctx.hasher)
        record = service.get(client_id)
        assert service.is_secret_valid(record, secret) and record.secret_hash != secret
        assert record.scope == "openid profile email" and record.grant_types == ["authorization_code", "refresh_token"]
    # Shown once: the same page again (a reload) says so, without the secret.
    again = client.get(done.headers["Location"])
    assert again.status_code == 200 and secret not in again.text and 'id="client-secret"' not in again.text
    assert "shown once, right after the registration" in again.text
    assert secret not in client.get(f"/admin/clients/{client_id}").text
    assert secret not in caplog.text and secret not in done.headers["Location"]
    assert client_count(app) == 1
    [event] = events(app, EventTag.CONSOLE_CLIENT_CREATED)
    assert event.details["agent_id"] == operator_id and event.details["client_id"] == client_id
    assert event.details["reason"] == "Entente signée" and secret not in str(event.details)
    # The secret authenticates at the token endpoint (the grant is not one this client has).
    token = client.post("/token", data={"grant_type": "client_credentials"},
                        headers=basic_auth(type("RP", (), {"client_id": client_id, "client_secret": secret})()))
    assert token.status_code == 400 and token.get_json()["error"] == "unauthorized_client"


def test_a_replayed_registration_registers_one_client(app, client, operator_id):
    sign_in_as(app, client, operator_id)
    form = client.get("/admin/clients/new")
    data = {**hidden_fields(form.text), **new_client_data()}
    assert "registration" in data
    refused = client.post("/admin/clients/new", data={**data, "scope": "profile"})
    assert refused.status_code == 422 and hidden_fields(refused.text)["registration"] == data["registration"]
    first = client.post("/admin/clients/new", data=data)
    assert first.status_code == 303 and first.headers["Location"].endswith("/registered")
    # A reload of the answer (the browser sends the same POST again), or a double click.
    for _ in range(2):
        replayed = client.post("/admin/clients/new", data=data)
        client_id = first.headers["Location"].split("/")[3]
        assert replayed.status_code == 303
        assert replayed.headers["Location"] == f"/admin/clients/{client_id}?done=already"
        page = client.get(replayed.headers["Location"])
        assert "This registration was already sent" in page.text and 'id="client-secret"' not in page.text
    assert client_count(app) == 1 and len(events(app, EventTag.CONSOLE_CLIENT_CREATED)) == 1
    # The replays took nothing away: the secret is still shown, once.
    assert 'id="client-secret"' in client.get(first.headers["Location"]).text
    # A new form is a new registration.
    assert post(client, "/admin/clients/new", **new_client_data(name="Portail des bourses")).status_code == 303
    assert client_count(app) == 2


def test_the_secret_is_shown_to_the_registering_session_only_and_kept_encrypted(app, client, operator_id):
    from idp.console.models import ConsoleSecretDisplay

    sign_in_as(app, client, operator_id)
    done = post(client, "/admin/clients/new", **new_client_data())
    with app.app_context():
        [held] = db.session.scalars(select(ConsoleSecretDisplay))
        secret = app_context().secret_box.decrypt(held.secret_encrypted).decode()
        assert secret.encode() not in held.secret_encrypted
    other_id = make_agent(app, "ops2@example.ca", OPERATOR)
    with app.test_client() as other:
        sign_in_as(app, other, other_id)
        seen = other.get(done.headers["Location"])
        assert seen.status_code == 200 and secret not in seen.text
    assert secret in client.get(done.headers["Location"]).text
    with app.app_context():
        assert db.session.scalar(select(func.count(ConsoleSecretDisplay.id))) == 0


def test_a_registration_form_without_its_one_time_id_is_refused(app, client, operator_id):
    sign_in_as(app, client, operator_id)
    form = client.get("/admin/clients/new")
    for registration in ("", "cAAAAAAAAAAAAAAAAAAAAAA", "forged.signature"):
        refused = client.post("/admin/clients/new", data={"csrf_token": csrf_token(form.text),
                                                          "registration": registration, **new_client_data()})
        assert refused.status_code == 422 and "This form could not be read" in refused.text
        assert hidden_fields(refused.text)["registration"] not in ("", registration)  # a new one: send it again
    assert client_count(app) == 0


@pytest.mark.parametrize("data, field_message", [
    ({"redirect_uris": "http://portal.example.ca/cb"}, "Check the redirect URIs"),
    ({"redirect_uris": "https://portal.example.ca/cb#frag"}, "Check the redirect URIs"),
    ({"redirect_uris": "https://a.example.ca/cb\nhttps://b.example.ca/cb"}, "give a sector identifier"),
    ({"scope": "profile"}, "The scopes must include openid"),
    ({"scope": "openid secrets"}, "Use only these scopes"),
    ({"grant_authorization_code": "", "grant_refresh_token": ""}, "Choose at least one grant type"),
    ({"grant_authorization_code": ""}, "Refresh tokens come from sign-ins"),
    ({"auth_method": "none", "require_pkce": ""}, "Public clients always use PKCE"),
    ({"auth_method": "private_key_jwt"}, "Give the client"),
    ({"jwks": "{not json"}, "The public keys are not JSON"),
    ({"min_acr": "gold"}, "Choose one of the assurance levels offered"),
    ({"auth_method": "magic"}, "Choose one of the authentication methods offered"),
    ({"backchannel_logout_uri": "javascript:alert(1)"}, "Check the back-channel logout URI"),
    ({"fapi2": "y", "jwks_uri": "https://portal.example.ca/jwks"}, "The fapi2 profile needs"),
    ({"name": ""}, "Give the relying party a name"),
    ({"name": "x" * 201}, "Give the relying party a name"),
    ({"reason": ""}, "Write the reason for this action"),
    ({"require_signed_request_object": "y"}, "Signed request objects need the client"),
])
def test_bad_registrations_are_translated_form_messages(app, client, operator_id, data, field_message):
    sign_in_as(app, client, operator_id)
    refused = post(client, "/admin/clients/new", **new_client_data(**data))
    assert refused.status_code == 422 and field_message in refused.text, refused.text[:3000]
    with app.app_context():
        assert db.session.scalar(select(Client.id)) is None
    assert not events(app, EventTag.CONSOLE_CLIENT_CREATED)


def test_messages_are_in_french_for_a_french_operator(app, client, operator_id):
    sign_in_as(app, client, operator_id)
    client.set_cookie("passerelle_lang", "fr")
    refused = post(client, "/admin/clients/new", **new_client_data(scope="profile"))
    assert refused.status_code == 422 and '<html lang="fr">' in refused.text
    assert "Les portées doivent inclure openid." in refused.text


def test_csrf_is_required_on_every_form(app, client, operator_id, rp):
    sign_in_as(app, client, operator_id)
    for path in ("/admin/clients/new", f"/admin/clients/{rp.client_id}/edit", f"/admin/clients/{rp.client_id}/enable",
                 "/admin/initial-tokens"):
        answer = client.post(path, data=new_client_data())
        assert answer.status_code in (400, 422), path
    assert get_client(app, rp.client_id).name == "Portail <b>des</b> documents"
    with app.app_context():
        assert db.session.scalar(select(Client.id).where(Client.name == "Portail des stages")) is None


def test_operator_edits_uris_scopes_consent_acr_and_policies(app, client, operator_id, rp):
    sign_in_as(app, client, operator_id)
    form = client.get(f"/admin/clients/{rp.client_id}/edit")
    assert form.status_code == 200 and "Portail &lt;b&gt;des&lt;/b&gt; documents" in form.text
    data = {"csrf_token": csrf_token(form.text), "name": "Portail des documents",
            "redirect_uris": f"{rp.redirect_uri}\nhttps://rp.example/other", "post_logout_redirect_uris": "",
            "scope": "openid email organization", "require_consent": "y", "min_acr": "urn:passerelle:acr:mfa",
            "require_pkce": "y", "require_pushed_authorization_requests": "y", "dpop_bound_access_tokens": "y",
            "backchannel_logout_uri": "https://127.0.0.1:5001/bcl", "backchannel_logout_session_required": "y",
            "frontchannel_logout_uri": "", "reason": "Demande du portail, billet 42"}
    done = client.post(f"/admin/clients/{rp.client_id}/edit", data=data)
    assert done.status_code == 303, done.text[:3000]
    assert "The changes are saved" in client.get(done.headers["Location"]).text
    record = get_client(app, rp.client_id)
    assert record.name == "Portail des documents" and record.scope == "openid email organization"
    assert record.redirect_uris == [rp.redirect_uri, "https://rp.example/other"]
    assert record.require_consent and record.min_acr == "urn:passerelle:acr:mfa" and record.require_pushed_authorization_requests
    assert record.dpop_bound_access_tokens and record.backchannel_logout_uri == "https://127.0.0.1:5001/bcl"
    [event] = events(app, EventTag.CONSOLE_CLIENT_UPDATED)
    assert event.details["agent_id"] == operator_id and event.details["reason"] == "Demande du portail, billet 42"
    assert {"name", "redirect_uris", "scope", "require_consent", "min_acr"} <= set(event.details["fields"])
    # Nothing changed: said so; a pairwise client's URIs stay on its sector; a lowered acr goes.
    same = client.post(f"/admin/clients/{rp.client_id}/edit", data=data)
    assert same.status_code == 422 and "Nothing to change" in same.text
    moved = client.post(f"/admin/clients/{rp.client_id}/edit", data={**data, "redirect_uris": "https://elsewhere.example.ca/cb"})
    assert moved.status_code == 422 and "must stay on the client" in moved.text
    lowered = client.post(f"/admin/clients/{rp.client_id}/edit", data={**data, "min_acr": ""})
    assert lowered.status_code == 303 and get_client(app, rp.client_id).min_acr is None


def test_operator_rotates_the_secret_with_an_overlap(app, client, clock, operator_id, rp):
    sign_in_as(app, client, operator_id)
    refused = post(client, f"/admin/clients/{rp.client_id}/rotate-secret", overlap="17", reason="Fuite")
    assert refused.status_code == 422 and "Choose one of the overlaps offered" in refused.text
    rotated = post(client, f"/admin/clients/{rp.client_id}/rotate-secret", overlap="3600", reason="Départ d'un employé")
    assert rotated.status_code == 303 and rotated.headers["Location"] == f"/admin/clients/{rp.client_id}/new-secret"
    done = client.get(rotated.headers["Location"])
    assert done.status_code == 200 and "The previous secret keeps working until" in done.text
    secret = re.search(r'<code id="client-secret">([^<]+)</code>', done.text).group(1)
    new = type("RP", (), {"client_id": rp.client_id, "client_secret": secret})()
    for credentials in (rp, new):
        assert client.post("/token", data={"grant_type": "client_credentials"},
                           headers=basic_auth(credentials)).status_code == 200
    [event] = events(app, EventTag.CONSOLE_CLIENT_SECRET_ROTATED)
    assert event.details["overlap_seconds"] == 3600 and event.details["reason"] == "Départ d'un employé"
    assert secret not in str(event.details) and event.details["agent_id"] == operator_id
    assert "Previous secret works until" in client.get(f"/admin/clients/{rp.client_id}").text
    shown = client.get(rotated.headers["Location"])  # a reload of the page: the secret is gone
    assert shown.status_code == 200 and secret not in shown.text and "shown once" in shown.text
    # One key touch, one action: the next rotation asks for the key again.
    assert client.get(f"/admin/clients/{rp.client_id}/rotate-secret").headers["Location"] == "/signin/second-factor"
    clock.advance(3600)
    assert client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(rp)).status_code == 401
    assert client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(new)).status_code == 200


def test_rotation_asks_for_the_key_when_it_is_not_fresh(app, client, operator_id, rp):
    sign_in_as(app, client, operator_id, key_age=600)
    client.set_cookie("passerelle_console", "")
    assert client.get(f"/admin/clients/{rp.client_id}").status_code in (200, 302)
    answer = client.get(f"/admin/clients/{rp.client_id}/rotate-secret")
    assert answer.status_code in (302, 303) and answer.headers["Location"].startswith("/signin")


def test_a_public_client_has_no_secret_to_rotate(app, client, operator_id):
    public = make_client(app, auth_method="none", is_public=True)
    sign_in_as(app, client, operator_id)
    assert "Rotate the secret" not in client.get(f"/admin/clients/{public.client_id}").text
    refused = post(client, f"/admin/clients/{public.client_id}/rotate-secret", overlap="0", reason="Essai")
    assert refused.status_code == 422 and "no secret to rotate" in refused.text


def test_operator_disables_then_enables_a_client(app, client, clock, operator_id, rp):
    issued = client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(rp)).get_json()
    sign_in_as(app, client, operator_id)
    empty = post(client, f"/admin/clients/{rp.client_id}/disable", reason="  ")
    assert empty.status_code == 422 and "Write the reason" in empty.text
    done = post(client, f"/admin/clients/{rp.client_id}/disable", reason="Contrat terminé")
    assert done.status_code == 303 and "The relying party is disabled" in client.get(done.headers["Location"]).text
    assert client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(rp)).status_code == 401
    refused = client.get("/authorize", query_string=authorization_params(rp))  # unknown: an error page, no redirect
    assert refused.status_code == 400 and "Location" not in refused.headers
    with app.app_context():
        assert db.session.scalar(select(Token.revoked_at).where(Token.client_id == rp.client_id)) is not None
    [event] = events(app, EventTag.CONSOLE_CLIENT_DISABLED)
    assert event.details == {**event.details, "agent_id": operator_id, "client_id": rp.client_id, "reason": "Contrat terminé"}
    enabled = post(client, f"/admin/clients/{rp.client_id}/enable", reason="Contrat renouvelé")
    assert enabled.status_code == 303
    again = post(client, f"/admin/clients/{rp.client_id}/enable", reason="Encore")
    assert again.status_code == 422 and "already in this state" in again.text
    assert client.post("/introspect", data={"token": issued["access_token"]}, headers=basic_auth(rp)).get_json()["active"] is False
    assert client.post("/token", data={"grant_type": "client_credentials"}, headers=basic_auth(rp)).status_code == 200
    assert client.get(f"/admin/clients/{rp.client_id}/explode").status_code == 404


def test_operator_deletes_a_client_behind_the_key_with_a_reason(app, client, operator_id, rp):
    sign_in_as(app, client, operator_id, key_age=400)  # older than CONSOLE_CONFIRM_MAX_AGE
    assert client.get(f"/admin/clients/{rp.client_id}/delete").headers["Location"] == "/signin/second-factor"
    sign_in_as(app, client, operator_id)
    done = post(client, f"/admin/clients/{rp.client_id}/delete", reason="Portail fermé")
    assert done.status_code == 303 and done.headers["Location"] == "/admin/clients?done=delete"
    assert "The relying party is deleted" in client.get(done.headers["Location"]).text
    assert get_client(app, rp.client_id) is None
    [event] = events(app, EventTag.CONSOLE_CLIENT_DELETED)
    assert event.details["client_id"] == rp.client_id and event.details["reason"] == "Portail fermé"
    assert event.details["client_name"] == "Portail <b>des</b> documents"
    assert client.get(f"/admin/clients/{rp.client_id}").status_code == 404


def test_operator_issues_lists_and_revokes_initial_access_tokens(app, client, clock, operator_id):
    sign_in_as(app, client, operator_id)
    page = client.get("/admin/initial-tokens")
    assert page.status_code == 200 and "No unused token" in page.text
    bad = client.post("/admin/initial-tokens", data={**hidden_fields(page.text), "expires_in": "-5",
                                                      "reason": "Portail"})
    assert bad.status_code == 422 and "Choose one of the lifetimes offered" in bad.text
    posted = client.post("/admin/initial-tokens", data={**hidden_fields(page.text), "expires_in": "86400",
                                                         "reason": "Pour le portail des stages"})
    assert posted.status_code == 303
    issued = client.get(posted.headers["Location"])
    assert issued.status_code == 200
    plain = re.search(r'<code id="initial-token">([^<]+)</code>', issued.text).group(1)
    listing = client.get("/admin/initial-tokens")
    assert plain not in listing.text and "Revoke token" in listing.text
    [event] = events(app, EventTag.CONSOLE_INITIAL_TOKEN_ISSUED)
    assert plain not in str(event.details) and event.details["reason"] == "Pour le portail des stages"
    with app.app_context():
        token_id = db.session.scalar(select(InitialAccessToken.id))
    revoked = post(client, f"/admin/initial-tokens/{token_id}/revoke", reason="Plus nécessaire")
    assert revoked.status_code == 303 and "revoked" in client.get(revoked.headers["Location"]).text
    with app.app_context():
        ctx = app_context()
        assert not RegistrationService(db.session, ctx.settings, ctx.clock, ctx.hasher).spend_initial_token(plain)
    [event] = events(app, EventTag.CONSOLE_INITIAL_TOKEN_REVOKED)
    assert event.details["token_id"] == token_id and event.details["agent_id"] == operator_id
    assert client.get(f"/admin/initial-tokens/{token_id}/revoke").status_code == 404
    gone = client.post(f"/admin/initial-tokens/{token_id}/revoke", data={"csrf_token": csrf_token(page.text), "reason": "x"})
    assert gone.status_code == 422 and "used, revoked or expired" in gone.text
    # Expired tokens are not listed.
    with app.app_context():
        ctx = app_context()
        RegistrationService(db.session, ctx.settings, ctx.clock, ctx.hasher).issue_initial_token(timedelta(hours=1))
        db.session.commit()
    assert "Revoke token" in client.get("/admin/initial-tokens").text
    clock.advance(hours=1)
    sign_in_as(app, client, operator_id)
    assert "Revoke token" not in client.get("/admin/initial-tokens").text


def secret_hash(app, client_id: str) -> str:
    return get_client(app, client_id).secret_hash


def test_a_replayed_rotation_rotates_the_secret_once(app, client, operator_id, rp):
    sign_in_as(app, client, operator_id)
    path = f"/admin/clients/{rp.client_id}/rotate-secret"
    before = secret_hash(app, rp.client_id)
    data = {**hidden_fields(client.get(path).text), "overlap": "3600", "reason": "Fuite"}
    assert "once" in data
    first = client.post(path, data=data)
    after = secret_hash(app, rp.client_id)
    assert first.status_code == 303 and after != before
    # A reload of the answer (the browser sends the same POST again), or a double click:
    # no second rotation, no key asked, and the page says so.
    replayed = client.post(path, data=data)
    assert secret_hash(app, rp.client_id) == after
    assert replayed.status_code == 303 and replayed.headers["Location"] == f"{first.headers['Location']}?again=1"
    page = client.get(replayed.headers["Location"])
    assert page.status_code == 200 and "This rotation was already sent" in page.text
    assert 'id="client-secret"' in page.text  # not read yet: the double click still shows it, once
    assert 'id="client-secret"' not in client.get(first.headers["Location"]).text
    assert len(events(app, EventTag.CONSOLE_CLIENT_SECRET_ROTATED)) == 1
    # The form of another client is not a rotation of this one.
    other = make_client(app, name="Autre portail")
    other_hash = secret_hash(app, other.client_id)
    sign_in_as(app, client, operator_id)  # a fresh key: the first rotation spent the other
    moved = client.post(f"/admin/clients/{other.client_id}/rotate-secret", data=data)
    assert moved.status_code == 422 and "This form could not be read" in moved.text
    assert secret_hash(app, rp.client_id) == after and secret_hash(app, other.client_id) == other_hash


def test_a_replayed_initial_token_form_issues_one_token(app, client, operator_id):
    sign_in_as(app, client, operator_id)
    page = client.get("/admin/initial-tokens")
    data = {**hidden_fields(page.text), "expires_in": "86400", "reason": "Pour le portail des stages"}
    assert "once" in data
    first = client.post("/admin/initial-tokens", data=data)
    replayed = client.post("/admin/initial-tokens", data=data)
    with app.app_context():
        assert db.session.scalar(select(func.count(InitialAccessToken.id))) == 1
    assert len(events(app, EventTag.CONSOLE_INITIAL_TOKEN_ISSUED)) == 1
    assert first.status_code == 303 and replayed.status_code == 303
    assert replayed.headers["Location"] == f"{first.headers['Location']}?again=1"
    shown = client.get(replayed.headers["Location"])
    assert "This form was already sent" in shown.text and 'id="initial-token"' in shown.text
    again = client.get(first.headers["Location"])
    assert again.status_code == 200 and 'id="initial-token"' not in again.text and "shown once" in again.text
    # Without its one-time id (or with a forged one) the form issues nothing.
    for once in ("", "forged.signature"):
        refused = client.post("/admin/initial-tokens", data={**data, "once": once})
        assert refused.status_code == 422 and "This form could not be read" in refused.text
    with app.app_context():
        assert db.session.scalar(select(func.count(InitialAccessToken.id))) == 1
    # A new form is a new token.
    fresh = client.post("/admin/initial-tokens", data={**hidden_fields(client.get("/admin/initial-tokens").text),
                                                       "expires_in": "3600", "reason": "Un autre portail"})
    assert fresh.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(InitialAccessToken.id))) == 2


def test_a_token_is_shown_to_the_issuing_session_only(app, client, operator_id):
    sign_in_as(app, client, operator_id)
    page = client.get("/admin/initial-tokens")
    issued = client.post("/admin/initial-tokens", data={**hidden_fields(page.text), "expires_in": "86400",
                                                        "reason": "Portail"})
    other_id = make_agent(app, "ops2@example.ca", OPERATOR)
    with app.test_client() as other:
        sign_in_as(app, other, other_id)
        seen = other.get(issued.headers["Location"])
        assert seen.status_code == 200 and 'id="initial-token"' not in seen.text
    assert 'id="initial-token"' in client.get(issued.headers["Location"]).text


def test_the_same_form_sent_twice_at_once_makes_one_secret_or_token(app, client, operator_id, rp, monkeypatch):
    """Two sendings racing: both miss the receipt, the second loses the insert of the form's id."""
    from idp.console.shown_once import ShownOnce

    sign_in_as(app, client, operator_id)
    path = f"/admin/clients/{rp.client_id}/rotate-secret"
    rotation = {**hidden_fields(client.get(path).text), "overlap": "0", "reason": "Fuite"}
    tokens = {**hidden_fields(client.get("/admin/initial-tokens").text), "expires_in": "3600", "reason": "Portail"}
    first = client.post(path, data=rotation)
    rotated = secret_hash(app, rp.client_id)
    assert client.post("/admin/initial-tokens", data=tokens).status_code == 303
    real_receipt = ShownOnce.receipt
    calls = []

    def missed_once(self, form_id):  # the first look misses: the other sending has not committed yet
        calls.append(form_id)
        return None if len(calls) == 1 else real_receipt(self, form_id)

    monkeypatch.setattr(ShownOnce, "receipt", missed_once)
    sign_in_as(app, client, operator_id)  # a fresh key, so that only the form's id stands in the way
    raced = client.post(path, data=rotation)
    assert raced.status_code == 303 and raced.headers["Location"] == f"{first.headers['Location']}?again=1"
    assert secret_hash(app, rp.client_id) == rotated
    calls.clear()
    raced = client.post("/admin/initial-tokens", data=tokens)
    assert raced.status_code == 303 and raced.headers["Location"].endswith("/issued?again=1")
    with app.app_context():
        assert db.session.scalar(select(func.count(InitialAccessToken.id))) == 1
