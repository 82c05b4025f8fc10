"""POST/GET/DELETE /api/invitations with real client_credentials tokens from /token."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp.extensions import db
from idp.invitations.models import Invitation
from idp.mail.models import OutboxMessage
from tests.invitations_support import access_token, bearer, make_api_client
from tests.oidc_support import basic_auth, make_client, make_user

BODY = {"email": "Zoe.Citoyenne@Example.ca", "kind": "link", "given_name": "Zoé", "family_name": "Citoyenne",
        "locale": "fr"}


@pytest.fixture
def rp(app):
    return make_api_client(app)


@pytest.fixture
def headers(client, rp):
    return bearer(access_token(client, rp))


def create(client, headers, **body):
    return client.post("/api/invitations", json={**BODY, **body}, headers=headers)


def test_create_answers_201_with_location_and_never_the_secret(client, app, headers, mailbox):
    response = create(client, headers)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "email", "kind", "state", "given_name", "family_name", "locale", "inviter_name",
                         "purpose", "created_at", "expires_at", "accepted_at", "revoked_at", "last_sent_at"}
    assert body["email"] == "zoe.citoyenne@example.ca"
    assert body["state"] == "pending" and body["kind"] == "link"
    assert body["inviter_name"] == "École Imaginaire"  # the client's name by default
    assert body["expires_at"].endswith("Z") and body["accepted_at"] is None
    assert response.headers["Location"] == f"http://127.0.0.1:5000/api/invitations/{body['id']}"
    assert response.headers["Cache-Control"] == "no-store"
    message = mailbox.wait_for("zoe.citoyenne@example.ca")
    with app.app_context():
        invitation = db.session.query(Invitation).one()
        assert invitation.created_by_kind == "client" and invitation.client_id == invitation.created_by_id
        assert body["id"] == invitation.public_id and str(invitation.id) != body["id"]
        assert invitation.send_count == 1
    # The secret went to the person only: it is in the email, not in the answer.
    link = [line for line in message.get_body(("plain",)).get_content().splitlines() if "/register/invitation/" in line]
    token = link[0].rsplit("/", 1)[1]
    assert token not in response.get_data(as_text=True)


def test_create_may_name_another_inviter_and_a_code_kind(client, headers):
    response = create(client, headers, kind="code", inviter_name="Collège Exemple", locale="en", purpose=None)
    body = response.get_json()
    assert response.status_code == 201
    assert (body["kind"], body["inviter_name"], body["locale"], body["purpose"]) == ("code", "Collège Exemple", "en", None)


def test_get_returns_the_invitation_only_to_the_client_that_created_it(client, app, headers):
    created = create(client, headers).get_json()
    fetched = client.get(f"/api/invitations/{created['id']}", headers=headers)
    assert fetched.status_code == 200 and fetched.get_json() == created
    other = make_api_client(app, name="Autre portail")
    foreign = client.get(f"/api/invitations/{created['id']}", headers=bearer(access_token(client, other)))
    assert foreign.status_code == 404  # not 403: no oracle for another client's ids
    assert foreign.get_json()["error"] == "not_found"
    assert client.get("/api/invitations/nope", headers=headers).status_code == 404


def test_get_shows_expiry(client, rp, headers, clock):
    created = create(client, headers).get_json()
    clock.advance(days=14)
    fresh = bearer(access_token(client, rp))  # the first token expired long ago
    assert client.get(f"/api/invitations/{created['id']}", headers=fresh).get_json()["state"] == "expired"


def test_list_is_the_clients_own_invitations_filtered(client, app, headers):
    first = create(client, headers, email="one@example.ca").get_json()
    second = create(client, headers, email="two@example.ca").get_json()
    other = make_api_client(app, name="Autre portail")
    create(client, bearer(access_token(client, other)), email="one@example.ca")
    listed = client.get("/api/invitations", headers=headers).get_json()["invitations"]
    assert [item["id"] for item in listed] == [second["id"], first["id"]]
    by_email = client.get("/api/invitations", query_string={"email": "ONE@example.ca"}, headers=headers)
    assert [item["id"] for item in by_email.get_json()["invitations"]] == [first["id"]]
    pending = client.get("/api/invitations", query_string={"state": "revoked"}, headers=headers)
    assert pending.get_json()["invitations"] == []
    limited = client.get("/api/invitations", query_string={"limit": "1"}, headers=headers)
    assert [item["id"] for item in limited.get_json()["invitations"]] == [second["id"]]


@pytest.mark.parametrize("query", [{"state": "lost"}, {"limit": "0"}, {"limit": "101"}, {"limit": "x"}])
def test_list_refuses_bad_filters(client, headers, query):
    response = client.get("/api/invitations", query_string=query, headers=headers)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_delete_revokes_and_is_idempotent(client, app, headers):
    created = create(client, headers).get_json()
    first = client.delete(f"/api/invitations/{created['id']}", headers=headers)
    assert first.status_code == 204 and first.get_data() == b""
    revoked = client.get(f"/api/invitations/{created['id']}", headers=headers).get_json()
    assert revoked["state"] == "revoked"
    again = client.delete(f"/api/invitations/{created['id']}", headers=headers)
    assert again.status_code == 204
    assert client.get(f"/api/invitations/{created['id']}", headers=headers).get_json()["revoked_at"] == revoked["revoked_at"]
    other = make_api_client(app, name="Autre portail")
    assert client.delete(f"/api/invitations/{created['id']}", headers=bearer(access_token(client, other))).status_code == 404


def test_delete_of_an_accepted_invitation_is_a_conflict(client, app, headers):
    from idp.context import app_context
    from idp.invitations.services import InvitationService

    created = create(client, headers).get_json()
    user_id = make_user(app, email="zoe.citoyenne@example.ca")
    with app.app_context():
        ctx = app_context()
        invitation = db.session.query(Invitation).one()
        InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher).accept(invitation.id, user_id)
        db.session.commit()
    response = client.delete(f"/api/invitations/{created['id']}", headers=headers)
    assert response.status_code == 409 and response.get_json()["error"] == "invitation_accepted"
    assert client.get(f"/api/invitations/{created['id']}", headers=headers).get_json()["state"] == "accepted"


def test_an_address_with_an_account_gets_the_same_answer(client, app, headers, mailbox):
    """Answering "already registered" would tell the relying party who has an account."""
    make_user(app, email="zoe.citoyenne@example.ca")
    registered = create(client, headers)
    unknown = create(client, headers, email="nobody@example.ca")
    assert registered.status_code == unknown.status_code == 201
    assert set(registered.get_json()) == set(unknown.get_json())
    assert registered.get_json()["state"] == unknown.get_json()["state"] == "pending"


# Authentication and scope (RFC 6750)


def test_no_token_is_401_with_a_bare_bearer_challenge(client):
    response = client.post("/api/invitations", json=BODY)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="passerelle"'


@pytest.mark.parametrize("authorization", ["Bearer nope", "Bearer " + "x" * 600, "Basic abc", "Bearer "])
def test_a_bad_token_is_401_invalid_token(client, authorization):
    response = client.get("/api/invitations", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_an_expired_token_is_401_invalid_token(client, headers, clock):
    clock.advance(seconds=601)
    response = client.get("/api/invitations", headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_revoked_token_is_401(client, rp, headers):
    token = headers["Authorization"].split()[1]
    client.post("/revoke", data={"token": token}, headers=basic_auth(rp))
    assert client.get("/api/invitations", headers=headers).status_code == 401


def test_a_token_without_the_scope_is_403_insufficient_scope(client, app):
    headers = bearer(access_token(client, make_api_client(app, scope="openid"), scope=None))
    response = create(client, headers)
    assert response.status_code == 403
    assert response.get_json()["error"] == "insufficient_scope"
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="invitations"' in challenge


def test_a_client_without_the_scope_cannot_get_a_token_for_it(client, app):
    rp = make_api_client(app, scope="openid")
    response = client.post("/token", data={"grant_type": "client_credentials", "scope": "invitations"}, headers=basic_auth(rp))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


def test_a_persons_access_token_cannot_manage_invitations(client, app):
    """Only the client acting for itself (client_credentials) invites, not a token issued
    for a person, even one that carries the scope. The token is issued the way the code
    grant issues it (TokenService.issue with a user), so this does not hang on sign-in."""
    from idp.context import app_context
    from idp.oidc.token_queries import GrantContext
    from idp.oidc.tokens import TokenService
    from idp.signin.sessions import SessionService

    rp = make_client(app, scope="openid invitations")
    user_id = make_user(app)
    with app.app_context():
        ctx = app_context()
        # A person's token lives while the session that got it does (docs/oidc.md).
        user_session, _ = SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(
            user_id, ["pwd"], "urn:passerelle:acr:pwd", ctx.clock(), None)
        issued = TokenService(db.session, ctx.settings, ctx.clock, ctx.hasher).issue(
            GrantContext(grant_id="g", client_id=rp.client_id, user_id=user_id, session_id=user_session.id,
                         scope="openid invitations"),
            include_refresh_token=False,
        )
        db.session.commit()
    response = create(client, bearer(issued["access_token"]))
    assert response.status_code == 403 and response.get_json()["error"] == "insufficient_scope"


def test_invitations_scope_is_not_advertised_in_discovery(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert "invitations" not in metadata["scopes_supported"]


# Bad input


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ({"email": "not an address"}, "email"),
        ({"email": "a@b.c\r\nBcc: x@y.z"}, "email"),
        ({"kind": "pigeon"}, "kind"),
        ({"locale": "de"}, "locale"),
        ({"given_name": "x" * 201}, "given_name"),
        ({"purpose": "y" * 501}, "purpose"),
        ({"purpose": "Un relevé de notes vous a été transmis."}, "purpose"),
        ({"details": {"document_type": {"fr": "x", "en": "x"}}}, "details"),
        ({"return_url": "https://portal.example.ca/"}, "return_url"),
        ({"inviter_name": "x" * 201}, "inviter_name"),
        ({"email": None}, "email"),
        ({"kind": ""}, "kind"),
        ({"email": 5}, "email"),
        ({"given_name": ["Zoé"]}, "given_name"),
        ({"surprise": "member"}, "surprise"),
    ],
)
def test_invalid_members_are_400_invalid_request_naming_the_member(client, app, headers, body, mentions):
    response = create(client, headers, **body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert mentions in response.get_json()["error_description"]
    with app.app_context():
        assert db.session.query(Invitation).count() == 0
        assert db.session.query(OutboxMessage).count() == 0


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("email=zoe@example.ca&kind=link", "application/x-www-form-urlencoded"), ("{not json", "application/json"),
     ("[1, 2]", "application/json"), ('"text"', "application/json"), ("", "application/json"), ("null", "application/json")],
)
def test_non_json_bodies_are_400_invalid_request(client, headers, data, content_type):
    response = client.post("/api/invitations", data=data, content_type=content_type, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert response.get_json()["error_description"]


def test_a_huge_body_is_refused_without_a_500(client, headers):
    response = client.post("/api/invitations", json={**BODY, "purpose": "x" * 100_000}, headers=headers)
    assert response.status_code == 413
    assert response.get_json()["error"] == "invalid_request"


def test_wrong_method_is_405_json(client, headers):
    response = client.put("/api/invitations", json=BODY, headers=headers)
    assert response.status_code == 405
    assert response.mimetype == "application/json"


def test_no_csrf_token_is_needed(app, client, headers):
    assert app.config["WTF_CSRF_ENABLED"] is True
    assert create(client, headers).status_code == 201


@pytest.mark.settings(INVITATION_API_RATE_LIMIT="3 per hour")
def test_creation_is_rate_limited_per_client(client, app, headers):
    for index in range(3):
        assert create(client, headers, email=f"p{index}@example.ca").status_code == 201
    limited = create(client, headers, email="p4@example.ca")
    assert limited.status_code == 429
    assert limited.get_json() == {"error": "too_many_requests", "error_description": limited.get_json()["error_description"]}
    assert limited.get_json()["error_description"]
    # Another client has its own budget.
    other = make_api_client(app, name="Autre portail")
    assert create(client, bearer(access_token(client, other)), email="p5@example.ca").status_code == 201


FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
    | st.sampled_from(["", "link", "code", "fr", "en", "zoe@example.ca", "a@b.c\r\nBcc: x@y.z", "x" * 600, "\x00", "é" * 300,
                      "document", "https://rp.example/documents", "masculine", "feminine"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(["email", "kind", "given_name", "family_name", "locale", "purpose", "inviter_name", "x",
                                     "details", "return_url"]),
                    json_values, max_size=7),
    # Document invitations: the nested details, member by member (issue 13).
    st.fixed_dictionaries({"email": st.just("zoe@example.ca"), "purpose": st.just("document"),
                           "return_url": json_values,
                           "details": st.dictionaries(st.sampled_from(["document_type", "issuer_name", "contact_email",
                                                                       "faq_url", "fr", "en", "gender"]),
                                                      json_values | st.dictionaries(st.sampled_from(["fr", "en", "gender"]),
                                                                                    json_values, max_size=3),
                                                      max_size=5)}),
    json_values,
)


@FUZZ
@given(body=bodies, path=st.sampled_from(["/api/invitations", "/api/invitations/x", "/api/invitations/%00", "/api/invitations/" + "a" * 300]),
       method=st.sampled_from(["POST", "GET", "DELETE"]))
def test_bad_input_never_500(client, app, body, path, method):
    token = getattr(app, "_fuzz_token", None)
    if token is None:
        token = app._fuzz_token = access_token(client, make_api_client(app))
    response = client.open(path, method=method, json=body, headers=bearer(token))
    assert response.status_code < 500
    assert response.mimetype == "application/json"
    if response.status_code >= 400:
        assert isinstance(response.get_json()["error"], str)


@pytest.mark.parametrize("path", ["/api/invitations/%00", "/api/invitations/a%20b", "/api/invitations/" + "a" * 300,
                                  "/api/invitations?email=%00", "/api/invitations?state=%00", "/api/invitations?limit=%00"])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_nul_bytes_and_odd_ids_never_reach_the_database(client, headers, path, method):
    """PostgreSQL refuses NUL in text: such values must be turned away before any query."""
    if method == "DELETE" and "?" in path:
        method = "GET"
    response = client.open(path, method=method, headers=headers)
    assert response.status_code in (200, 400, 404)
    assert response.mimetype == "application/json"
