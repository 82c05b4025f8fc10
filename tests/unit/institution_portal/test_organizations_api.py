"""The portal's client for Passerelle's organizations API, against a live Passerelle over
HTTP: its own client_credentials token (kept until near expiry), the organizations attached
to it, members, invitations and change requests, and each refusal as a class of errors.py."""

from __future__ import annotations

import pytest
import requests

from clients.institution_portal.config import load, validate
from clients.institution_portal.errors import (
    AlreadyMember,
    ApiNotAllowed,
    ApiUnavailable,
    InvalidApiRequest,
    NotPrimaryUser,
    OrganizationNotReachable,
    PrimaryCannotBeRemoved,
    RequestAlreadyPending,
)
from clients.institution_portal.organizations_api import OrganizationsApi
from tests.institution_portal_api_support import attach, register_api_portal, subject_of
from tests.institution_portal_support import SECRET_KEY, register_portal
from tests.orgs_access_support import PRIMARY_EMAIL, SECONDARY_EMAIL, dli_with_members
from tests.support import free_port


def settings_for(issuer: str, registration):
    return validate(load({
        "PORTAL_ENV": "development", "PORTAL_ISSUER": issuer, "PORTAL_CLIENT_ID": registration.client_id,
        "PORTAL_CLIENT_SECRET": registration.client_secret, "PORTAL_BASE_URL": "http://127.0.0.1:5003",
        "PORTAL_SECRET_KEY": SECRET_KEY, "PORTAL_DATABASE_URL": "sqlite://",
    }, environ={}))


class CountingSession(requests.Session):
    """A real HTTP session that counts the token requests it sends."""

    def __init__(self):
        super().__init__()
        self.token_requests = 0

    def request(self, method, url, *args, **kwargs):
        if url.endswith("/token"):
            self.token_requests += 1
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def world(live_server):
    dli = dli_with_members(live_server.app)
    other = dli_with_members(live_server.app, people=(("bo@example.ca", "primary"),), number="O999999999999",
                             name_fr="Autre collège", name_en="Other College")
    registration = register_api_portal(live_server.app)
    attach(live_server.app, dli.id, registration.client_id)
    return dli, other, registration


@pytest.fixture
def api(live_server, world, clock):
    return OrganizationsApi(settings_for(live_server.url, world[2]), clock, CountingSession())


def test_the_portal_lists_its_organizations_and_their_members(api, world, live_server):
    dli, _other, registration = world
    organizations = api.list_organizations()
    assert [(item.id, item.kind, item.number, item.name("fr"), item.name("en")) for item in organizations] == [
        (dli.public_id, "dli", "O123456789012", "Collège Imaginaire", "Imaginary College")]
    members = api.list_members(dli.public_id)
    assert [(member.email, member.role, member.state) for member in members] == [
        (PRIMARY_EMAIL, "primary", "active"), (SECONDARY_EMAIL, "secondary", "active")]
    assert members[0].sub == subject_of(live_server.app, registration.client_id, PRIMARY_EMAIL)
    assert members[0].full_name == "Zoé Citoyenne" and members[0].joined_at.tzinfo is not None


def test_the_token_is_kept_until_near_expiry(api, world, clock):
    dli = world[0]
    api.list_organizations()
    api.list_members(dli.public_id)
    assert api._http.token_requests == 1
    clock.advance(seconds=3600)  # past the token's lifetime (less the margin)
    api.list_organizations()
    assert api._http.token_requests == 2


def test_a_token_passerelle_no_longer_accepts_is_replaced_once(api, world):
    api.list_organizations()
    api._token = "revoked-or-unknown-token"
    assert len(api.list_organizations()) == 1
    assert api._http.token_requests == 2


def test_another_institution_is_not_reachable(api, world):
    _dli, other, _registration = world
    for call in (api.list_members, api.list_invitations, api.list_requests, api.get_organization):
        with pytest.raises(OrganizationNotReachable):
            call(other.public_id)
    with pytest.raises(OrganizationNotReachable):
        api.list_members("../../admin")


def test_the_primary_user_invites_and_sees_the_open_invitations(api, world, live_server):
    dli, _other, registration = world
    primary = subject_of(live_server.app, registration.client_id, PRIMARY_EMAIL)
    invitation = api.invite(dli.public_id, acting_sub=primary, email="lou@example.ca", locale="en")
    assert (invitation.email, invitation.role, invitation.state, invitation.locale) == (
        "lou@example.ca", "secondary", "pending", "en")
    assert [item.id for item in api.list_invitations(dli.public_id)] == [invitation.id]
    with pytest.raises(AlreadyMember):
        api.invite(dli.public_id, acting_sub=primary, email=SECONDARY_EMAIL)
    with pytest.raises(InvalidApiRequest) as caught:
        api.invite(dli.public_id, acting_sub=primary, email="not an address")
    assert caught.value.field == "email"
    secondary = subject_of(live_server.app, registration.client_id, SECONDARY_EMAIL)
    with pytest.raises(NotPrimaryUser):
        api.invite(dli.public_id, acting_sub=secondary, email="kim@example.ca")


def test_the_primary_user_asks_for_changes(api, world, live_server):
    dli, _other, registration = world
    primary = subject_of(live_server.app, registration.client_id, PRIMARY_EMAIL)
    secondary = subject_of(live_server.app, registration.client_id, SECONDARY_EMAIL)
    made = api.request_change(dli.public_id, acting_sub=primary, kind="remove_secondary", target_sub=secondary,
                              reason="Départ en juin.")
    assert (made.kind, made.state, made.target_sub, made.reason) == ("remove_secondary", "pending", secondary,
                                                                     "Départ en juin.")
    assert [item.id for item in api.list_requests(dli.public_id)] == [made.id]
    assert api.list_requests(dli.public_id, state="approved") == []
    with pytest.raises(RequestAlreadyPending):
        api.request_change(dli.public_id, acting_sub=primary, kind="remove_secondary", target_sub=secondary,
                           reason="Encore.")
    with pytest.raises(PrimaryCannotBeRemoved):
        api.request_change(dli.public_id, acting_sub=primary, kind="remove_secondary", target_sub=primary,
                           reason="Moi.")
    handed = api.request_change(dli.public_id, acting_sub=primary, kind="change_primary", new_email="nia@example.ca",
                                locale="fr", former_primary_becomes="secondary", reason="Retraite.")
    assert (handed.new_email, handed.former_primary_becomes) == ("nia@example.ca", "secondary")


def test_a_portal_without_the_organizations_scope_is_told_so(live_server, clock):
    registration = register_portal(live_server.app)  # sign-in only: no client_credentials, no scope
    api = OrganizationsApi(settings_for(live_server.url, registration), clock)
    with pytest.raises(ApiNotAllowed):
        api.list_organizations()


def test_passerelle_out_of_reach_is_api_unavailable(world, clock):
    api = OrganizationsApi(settings_for(f"http://127.0.0.1:{free_port()}", world[2]), clock)
    with pytest.raises(ApiUnavailable):
        api.list_organizations()
