"""/api/organizations with real client_credentials tokens (issue 11, For relying parties):
a client reaches only the organizations an operator attached to it, names people by their
`sub` for it, and acts only as the organization's active primary user."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select

from idp.accounts.models import User
from idp.audit import SecurityEvent
from idp.context import app_context
from idp.extensions import db
from idp.invitations.models import Invitation
from idp.oidc.claims import subject_for
from idp.orgs.models import ChangeRequest, OrganizationClient
from tests.invitations_support import access_token, bearer, make_api_client
from tests.orgs_access_support import PRIMARY_EMAIL, SECONDARY_EMAIL, dli_with_members

SCOPE = "openid organizations"


def attach(run_idp, organization: str, client_id: str):
    result = run_idp("orgs", "attach", organization, "--client", client_id, "--json")
    assert result.exit_code == 0, result.output
    return result


def sub_of(app, rp, email: str) -> str:
    """The person's subject for this client, as its ID tokens carry it (pairwise)."""
    with app.app_context():
        from idp.oidc.models import Client

        record = db.session.scalar(select(Client).where(Client.client_id == rp.client_id))
        user = db.session.scalar(select(User).where(User.email == email))
        return subject_for(record.subject_type, record.sector_identifier, user.subject,
                           app_context().settings.OIDC_PAIRWISE_SALT)


@pytest.fixture
def dli(app):
    return dli_with_members(app)


@pytest.fixture
def rp(app, dli, run_idp):
    registered = make_api_client(app, scope=SCOPE)
    attach(run_idp, dli.public_id, registered.client_id)
    return registered


@pytest.fixture
def headers(client, rp):
    return bearer(access_token(client, rp, scope="organizations"))


def base(dli) -> str:
    return f"/api/organizations/{dli.public_id}"


def invite(client, headers, dli, acting_sub, **body):
    return client.post(f"{base(dli)}/invitations", json={"acting_sub": acting_sub, "email": "lou@example.ca", **body},
                       headers=headers)


# Reading


def test_a_client_reads_its_attached_organization_and_its_members(app, client, dli, rp, headers):
    listed = client.get("/api/organizations", headers=headers).get_json()["organizations"]
    assert [item["id"] for item in listed] == [dli.public_id]
    response = client.get(base(dli), headers=headers)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"id": dli.public_id, "kind": "dli", "number": "O123456789012",
                                   "name": {"fr": "Collège Imaginaire", "en": "Imaginary College"},
                                   "state": "active", "created_at": response.get_json()["created_at"],
                                   "disabled_at": None}
    members = client.get(f"{base(dli)}/members", headers=headers).get_json()["members"]
    assert [(member["email"], member["role"], member["state"]) for member in members] == [
        (PRIMARY_EMAIL, "primary", "active"), (SECONDARY_EMAIL, "secondary", "active")]
    assert members[0]["sub"] == sub_of(app, rp, PRIMARY_EMAIL)
    assert str(dli.members[PRIMARY_EMAIL]) not in {member["sub"] for member in members}


def test_an_organization_not_attached_is_404_as_if_it_did_not_exist(app, client, dli, run_idp):
    other = make_api_client(app, scope=SCOPE, name="Autre portail")
    headers = bearer(access_token(client, other, scope="organizations"))
    for path in (base(dli), f"{base(dli)}/members", f"{base(dli)}/requests", "/api/organizations/nope"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and response.get_json() == {"error": "not_found",
                                                                       "error_description": "No such organization."}
    response = invite(client, headers, dli, sub_of(app, other, PRIMARY_EMAIL))
    assert response.status_code == 404
    assert client.get("/api/organizations", headers=headers).get_json() == {"organizations": []}
    # Detaching takes the access away again.
    attach(run_idp, dli.public_id, other.client_id)
    assert client.get(base(dli), headers=headers).status_code == 200
    assert run_idp("orgs", "detach", dli.public_id, "--client", other.client_id).exit_code == 0
    assert client.get(base(dli), headers=headers).status_code == 404


def test_the_invitations_scope_is_not_the_organizations_scope(app, client, dli, run_idp):
    rp = make_api_client(app, scope="openid invitations organizations")
    attach(run_idp, dli.public_id, rp.client_id)
    response = client.get(base(dli), headers=bearer(access_token(client, rp, scope="invitations")))
    assert response.status_code == 403 and response.get_json()["error"] == "insufficient_scope"
    assert 'scope="organizations"' in response.headers["WWW-Authenticate"]
    assert client.get(base(dli)).status_code == 401


# « Nouvelle requête » on behalf of the primary user


def test_the_primary_user_invites_a_secondary_user(app, client, dli, rp, headers, mailbox):
    response = invite(client, headers, dli, sub_of(app, rp, PRIMARY_EMAIL), locale="en")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["email"], body["role"], body["state"], body["locale"]) == ("lou@example.ca", "secondary", "pending", "en")
    mailbox.wait_for("lou@example.ca")
    with app.app_context():
        invitation = db.session.scalar(select(Invitation).where(Invitation.public_id == body["id"]))
        assert invitation.organization_id == dli.id and invitation.organization_role == "secondary"
        assert invitation.created_by_id.endswith(f"/user:{dli.members[PRIMARY_EMAIL]}")


@pytest.mark.parametrize("who", ["secondary", "stranger", "garbage", "other organization's primary"])
def test_only_the_active_primary_may_act(app, client, dli, rp, headers, who):
    if who == "secondary":
        sub = sub_of(app, rp, SECONDARY_EMAIL)
    elif who == "stranger":
        from tests.oidc_support import make_user

        make_user(app, email="stranger@example.ca")
        sub = sub_of(app, rp, "stranger@example.ca")
    elif who == "garbage":
        sub = "x" * 300
    else:
        dli_with_members(app, people=(("bo@example.ca", "primary"),), number="O999999999999")
        sub = sub_of(app, rp, "bo@example.ca")
    response = invite(client, headers, dli, sub)
    assert response.status_code == 403 and response.get_json()["error"] == "access_denied"
    request = client.post(f"{base(dli)}/requests", headers=headers, json={
        "acting_sub": sub, "kind": "remove_secondary", "reason": "Parti.", "target_sub": sub_of(app, rp, SECONDARY_EMAIL)})
    assert request.status_code == 403 and request.get_json()["error"] == "access_denied"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.email == "lou@example.ca")) == 0
        assert db.session.scalar(select(func.count()).select_from(ChangeRequest)) == 0


@pytest.mark.parametrize(("body", "mentions"), [
    ({"email": "<b>lou</b>@example.ca"}, "email"),
    ({"email": "lou\u202e@example.ca"}, "email"),
    ({"email": "not an address"}, "email"),
    ({"email": None}, "email"),
    ({"email": 5}, "email"),
    ({"locale": "de"}, "locale"),
    ({"role": "primary"}, "role"),
    ({"acting_sub": None}, "acting_sub"),
    ({"acting_sub": ""}, "acting_sub"),
])
def test_bad_invitations_are_400_naming_the_member(app, client, dli, rp, headers, body, mentions):
    acting_sub = body.pop("acting_sub") if "acting_sub" in body else sub_of(app, rp, PRIMARY_EMAIL)
    response = invite(client, headers, dli, acting_sub, **body)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
    assert mentions in response.get_json()["error_description"]


def test_inviting_a_member_again_is_a_conflict_and_inviting_twice_keeps_one_live_invitation(app, client, dli, rp, headers):
    primary = sub_of(app, rp, PRIMARY_EMAIL)
    response = invite(client, headers, dli, primary, email=SECONDARY_EMAIL)
    assert response.status_code == 409 and response.get_json()["error"] == "already_member"
    first = invite(client, headers, dli, primary).get_json()
    second = invite(client, headers, dli, primary).get_json()
    assert first["id"] != second["id"]
    with app.app_context():
        states = {invitation.public_id: invitation.state_at(app_context().clock()).value
                  for invitation in db.session.scalars(select(Invitation).where(Invitation.email == "lou@example.ca"))}
    assert states == {first["id"]: "revoked", second["id"]: "pending"}


def test_a_disabled_organization_refuses_invitations(app, client, dli, rp, headers, run_idp):
    primary = sub_of(app, rp, PRIMARY_EMAIL)
    assert run_idp("orgs", "disable", dli.public_id).exit_code == 0
    assert client.get(base(dli), headers=headers).get_json()["state"] == "disabled"
    response = invite(client, headers, dli, primary)
    assert response.status_code == 409 and response.get_json()["error"] == "organization_disabled"


def test_twenty_parallel_invitations_to_one_address_leave_one_live_invitation(app, client, dli, rp, headers):
    primary = sub_of(app, rp, PRIMARY_EMAIL)
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def post() -> None:
        http = app.test_client()
        barrier.wait()
        statuses.append(invite(http, headers, dli, primary).status_code)

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == 20 and set(statuses) <= {201, 503}, statuses
    assert 201 in statuses
    with app.app_context():
        live = [invitation for invitation in db.session.scalars(select(Invitation).where(Invitation.email == "lou@example.ca"))
                if invitation.state_at(app_context().clock()).value == "pending"]
    assert len(live) == 1


# Change requests


def test_the_primary_user_asks_to_remove_a_secondary_and_lists_the_requests(app, client, dli, rp, headers, mailbox):
    primary, secondary = sub_of(app, rp, PRIMARY_EMAIL), sub_of(app, rp, SECONDARY_EMAIL)
    response = client.post(f"{base(dli)}/requests", headers=headers, json={
        "acting_sub": primary, "kind": "remove_secondary", "target_sub": secondary, "reason": "Départ en juin."})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert (created["kind"], created["state"], created["target_sub"], created["requested_by_sub"], created["reason"]) == (
        "remove_secondary", "pending", secondary, primary, "Départ en juin.")
    listed = client.get(f"{base(dli)}/requests", headers=headers).get_json()["requests"]
    assert listed == [created]
    assert client.get(f"{base(dli)}/requests", query_string={"state": "approved"}, headers=headers).get_json() == {
        "requests": []}
    again = client.post(f"{base(dli)}/requests", headers=headers, json={
        "acting_sub": primary, "kind": "remove_secondary", "target_sub": secondary, "reason": "Encore."})
    assert again.status_code == 409 and again.get_json()["error"] == "request_pending"


def test_the_primary_user_asks_to_hand_over_to_a_new_address(app, client, dli, rp, headers):
    response = client.post(f"{base(dli)}/requests", headers=headers, json={
        "acting_sub": sub_of(app, rp, PRIMARY_EMAIL), "kind": "change_primary", "new_email": "nia@example.ca",
        "locale": "en", "former_primary_becomes": "secondary", "reason": "Retraite."})
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["new_email"], response.get_json()["target_sub"]) == ("nia@example.ca", None)


@pytest.mark.parametrize(("body", "status", "error", "mentions"), [
    ({"reason": "<script>x</script>"}, 400, "invalid_request", "reason"),
    ({"reason": "Parti\u202e.gpj"}, 400, "invalid_request", "reason"),
    ({"reason": "a\u200bb"}, 400, "invalid_request", "reason"),
    ({"reason": "   "}, 400, "invalid_request", "reason"),
    ({"reason": "x" * 1001}, 400, "invalid_request", "reason"),
    ({"kind": "dissolve"}, 400, "invalid_request", "kind"),
    ({"target_sub": "nobody"}, 400, "invalid_request", "target_sub"),
    ({"target_sub": "primary"}, 409, "primary_cannot_be_removed", "primary"),
    ({"kind": "change_primary", "former_primary_becomes": "boss"}, 400, "invalid_request", "former_primary_becomes"),
    ({"kind": "change_primary", "former_primary_becomes": "leave", "new_email": "nia@example.ca"}, 400,
     "invalid_request", "target"),
    ({"kind": "change_primary", "former_primary_becomes": "leave", "target_sub": "primary"}, 400, "invalid_request",
     "target"),
    ({"kind": "change_primary", "former_primary_becomes": "leave", "target_sub": None, "new_email": SECONDARY_EMAIL},
     409, "already_member", "member"),
    ({"surprise": "x"}, 400, "invalid_request", "surprise"),
])
def test_bad_requests_are_refused_and_change_nothing(app, client, dli, rp, headers, body, status, error, mentions):
    primary, secondary = sub_of(app, rp, PRIMARY_EMAIL), sub_of(app, rp, SECONDARY_EMAIL)
    payload = {"acting_sub": primary, "kind": "remove_secondary", "target_sub": secondary, "reason": "Parti.", **body}
    if payload.get("target_sub") == "primary":
        payload["target_sub"] = primary
    response = client.post(f"{base(dli)}/requests", headers=headers, json=payload)
    assert response.status_code == status and response.get_json()["error"] == error, response.get_json()
    assert mentions in response.get_json()["error_description"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ChangeRequest)) == 0


@pytest.mark.settings(ORGANIZATION_API_RATE_LIMIT="2 per hour")
def test_creation_is_rate_limited(app, client, dli, rp, headers):
    primary = sub_of(app, rp, PRIMARY_EMAIL)
    assert invite(client, headers, dli, primary, email="a@example.ca").status_code == 201
    assert invite(client, headers, dli, primary, email="b@example.ca").status_code == 201
    limited = invite(client, headers, dli, primary, email="c@example.ca")
    assert limited.status_code == 429 and limited.get_json()["error"] == "too_many_requests"


# Operators: attach and detach


def test_attach_and_detach_are_idempotent_audited_and_shown(app, dli, run_idp):
    rp = make_api_client(app, scope=SCOPE)
    first = json.loads(attach(run_idp, dli.public_id, rp.client_id).stdout)
    again = json.loads(attach(run_idp, "O123456789012", rp.client_id).stdout)
    assert (first["changed"], again["changed"], again["clients"]) == (True, False, [rp.client_id])
    shown = json.loads(run_idp("orgs", "show", dli.public_id, "--json").stdout)
    assert shown["clients"] == [rp.client_id]
    assert "client" in run_idp("orgs", "show", dli.public_id).output
    detached = json.loads(run_idp("orgs", "detach", dli.public_id, "--client", rp.client_id, "--json").stdout)
    assert (detached["changed"], detached["clients"]) == (True, [])
    with app.app_context():
        tags = list(db.session.scalars(select(SecurityEvent.tag).where(SecurityEvent.tag.like("organization:client:%"))))
    assert tags == ["organization:client:attached", "organization:client:detached"]


def test_attaching_an_unknown_client_is_one_line(dli, run_idp):
    result = run_idp("orgs", "attach", dli.public_id, "--client", "nope")
    assert result.exit_code == 1 and "no client with client_id 'nope'" in result.output


def test_deleting_a_client_detaches_it(app, dli, rp, run_idp):
    assert run_idp("clients", "delete", rp.client_id, "--yes").exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OrganizationClient)) == 0


def test_the_client_lists_the_open_invitations_newest_first(app, client, dli, rp, headers, clock):
    primary = sub_of(app, rp, PRIMARY_EMAIL)
    first = invite(client, headers, dli, primary, email="lou@example.ca").get_json()
    clock.advance(seconds=5)
    second = invite(client, headers, dli, primary, email="kim@example.ca").get_json()
    listed = client.get(f"{base(dli)}/invitations", headers=headers)
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    assert [item["id"] for item in listed.get_json()["invitations"]] == [second["id"], first["id"]]
    assert listed.get_json()["invitations"][0] == second
    other = make_api_client(app, scope=SCOPE, name="Autre portail")
    assert client.get(f"{base(dli)}/invitations",
                      headers=bearer(access_token(client, other, scope="organizations"))).status_code == 404
