"""The `organization` scope and claim (issue 11, For relying parties): a client the operator
granted the scope receives the person's active membership in the ID token and UserInfo;
a client without it receives nothing, whatever it asks, and the `claims` parameter never
adds it."""

from __future__ import annotations

import json

import pytest

from idp.oidc.client_rules import DEFAULT_SCOPE
from tests.integration.oidc.test_code_flow import decode_id_token, exchange
from tests.oidc_support import SignIn, authorization_params, basic_auth, make_client, make_user
from tests.orgs_access_support import PRIMARY_EMAIL, SECONDARY_EMAIL, dli_with_members

ORG_SCOPE = DEFAULT_SCOPE + " organization"


def tokens_for(http, rp, email: str, scope: str = "openid organization", **extra) -> dict:
    code = SignIn(http).code_for(authorization_params(rp, scope=scope, **extra), email=email)["code"]
    response = exchange(http, rp, code)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def userinfo(http, access_token: str):
    return http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


@pytest.mark.parametrize(("email", "role"), [(PRIMARY_EMAIL, "primary"), (SECONDARY_EMAIL, "secondary")])
def test_a_client_granted_the_scope_gets_the_membership_in_id_token_and_userinfo(app, client, email, role):
    dli = dli_with_members(app)
    rp = make_client(app, scope=ORG_SCOPE)
    tokens = tokens_for(client, rp, email)
    expected = {"id": dli.public_id, "kind": "dli", "number": "O123456789012",
                "name": {"fr": "Collège Imaginaire", "en": "Imaginary College"}, "role": role}
    assert decode_id_token(client, tokens["id_token"])["organization"] == expected
    assert userinfo(client, tokens["access_token"]).get_json()["organization"] == expected
    # A refresh's new ID token carries it too.
    refreshed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                            headers=basic_auth(rp)).get_json()
    assert decode_id_token(client, refreshed["id_token"])["organization"] == expected


def test_a_person_without_membership_gets_no_organization_claim(app, client):
    make_user(app)
    rp = make_client(app, scope=ORG_SCOPE)
    tokens = tokens_for(client, rp, "zoe@example.ca")
    assert "organization" not in decode_id_token(client, tokens["id_token"])
    assert "organization" not in userinfo(client, tokens["access_token"]).get_json()


def test_a_client_not_granted_the_scope_gets_nothing_even_when_asking(app, client):
    dli_with_members(app)
    rp = make_client(app)  # the default scopes: organization is the operator's to grant
    claims = {"id_token": {"organization": {"essential": True}}, "userinfo": {"organization": None}}
    tokens = tokens_for(client, rp, PRIMARY_EMAIL, scope="openid profile organization", claims=json.dumps(claims))
    assert "organization" not in tokens["scope"].split()
    assert "organization" not in decode_id_token(client, tokens["id_token"])
    assert "organization" not in userinfo(client, tokens["access_token"]).get_json()


def test_the_claims_parameter_cannot_add_it_when_the_scope_was_not_asked(app, client):
    dli_with_members(app)
    rp = make_client(app, scope=ORG_SCOPE)  # allowed the scope, but does not ask for it
    claims = {"id_token": {"organization": None}, "userinfo": {"organization": None}}
    tokens = tokens_for(client, rp, PRIMARY_EMAIL, scope="openid profile", claims=json.dumps(claims))
    assert "organization" not in decode_id_token(client, tokens["id_token"])
    assert "organization" not in userinfo(client, tokens["access_token"]).get_json()


def test_a_narrowing_refresh_without_the_scope_drops_the_claim(app, client):
    dli_with_members(app)
    rp = make_client(app, scope=ORG_SCOPE)
    tokens = tokens_for(client, rp, PRIMARY_EMAIL, scope="openid profile organization")
    refreshed = client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                                            "scope": "openid profile"}, headers=basic_auth(rp)).get_json()
    assert "organization" not in decode_id_token(client, refreshed["id_token"])
    assert "organization" not in userinfo(client, refreshed["access_token"]).get_json()


def test_client_credentials_cannot_carry_the_organization_scope(app, client):
    rp = make_client(app, scope="openid organization", grant_types=("client_credentials",), redirect_uris=(),
                     post_logout_redirect_uris=())
    response = client.post("/token", data={"grant_type": "client_credentials", "scope": "organization"},
                           headers=basic_auth(rp))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


def test_discovery_lists_the_scope_and_the_claim(client):
    metadata = client.get("/.well-known/openid-configuration").get_json()
    assert "organization" in metadata["scopes_supported"]
    assert "organization" in metadata["claims_supported"]
    assert "organizations" not in metadata["scopes_supported"]  # the API's scope is not a person's


@pytest.mark.parametrize(("lang", "words"), [("fr", "organisation"), ("en", "organization")])
def test_the_consent_page_describes_the_scope(app, client, lang, words):
    dli_with_members(app)
    rp = make_client(app, scope=ORG_SCOPE, require_consent=True)
    client.set_cookie("passerelle_lang", lang)
    page = SignIn(client).authorize(authorization_params(rp, scope="openid organization"), email=PRIMARY_EMAIL,
                                    consent=None)
    assert page.request.path == "/signin/consent"
    scope_list = page.get_data(as_text=True).split('class="scope-list"', 1)[1].split("</ul>", 1)[0]
    assert scope_list.count("<li>") == 2 and words in scope_list.lower()
