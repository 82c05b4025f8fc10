"""Ending a member's access (issue 11): approving "remove secondary", a former primary who
leaves, and disabling the organization end the person's Passerelle sessions and every grant
whose scope includes `organization`, offline_access included; the account stays. A grant
without the organization scope ends with the sessions unless it has offline_access: it
never carried the organization (docs/oidc.md, How tokens end)."""

from __future__ import annotations

import pytest

from idp.accounts.models import User
from idp.extensions import db
from idp.oidc.client_rules import DEFAULT_SCOPE
from tests.integration.oidc.test_code_flow import exchange
from tests.integration.oidc.test_session_bound_tokens import ALIVE, ENDED, state_of
from tests.oidc_support import SignIn, authorization_params, make_client
from tests.orgs_access_support import PRIMARY_EMAIL, SECONDARY_EMAIL, dli_with_members, membership_id
from tests.orgs_support import org_service

ORG_OFFLINE = "openid profile organization offline_access"
ORG_SESSION = "openid profile organization"
PLAIN_OFFLINE = "openid profile offline_access"


def signed_in(app, email: str):
    """A browser of its own for each person (a sign-in as someone else would end the other's session)."""
    return app.test_client()


def grant(http, rp, email: str, scope: str) -> dict:
    code = SignIn(http).code_for(authorization_params(rp, scope=scope), email=email)["code"]
    response = exchange(http, rp, code)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def rp(app):
    return make_client(app, scope=DEFAULT_SCOPE + " organization")


def submit_and_approve(app, run_idp, dli, **request):
    with app.app_context():
        service = org_service()
        submitted = service.submit_request(dli.id, by_user_id=dli.members[PRIMARY_EMAIL], reason="Départ.", **request)
        db.session.commit()
        request_id = submitted.id
    result = run_idp("orgs", "requests", "approve", str(request_id), "--json")
    assert result.exit_code == 0, result.output


def test_removing_a_secondary_ends_their_sessions_and_organization_tokens(app, rp, run_idp):
    dli = dli_with_members(app)
    browser = signed_in(app, SECONDARY_EMAIL)
    organization_offline = grant(browser, rp, SECONDARY_EMAIL, ORG_OFFLINE)
    organization_session = grant(browser, rp, SECONDARY_EMAIL, ORG_SESSION)
    plain_offline = grant(browser, rp, SECONDARY_EMAIL, PLAIN_OFFLINE)
    plain_session = grant(browser, rp, SECONDARY_EMAIL, "openid profile")
    primary_browser = signed_in(app, PRIMARY_EMAIL)
    primary_tokens = grant(primary_browser, rp, PRIMARY_EMAIL, ORG_OFFLINE)

    submit_and_approve(app, run_idp, dli, kind="remove_secondary",
                       target_membership_id=membership_id(app, dli.members[SECONDARY_EMAIL]))

    assert state_of(browser, rp, organization_offline) == ENDED
    assert state_of(browser, rp, organization_session) == ENDED
    # Decision: a grant that never carried the organization outlives the membership when it
    # has offline_access (it survives sign-out too); without it, it ended with the sessions.
    assert state_of(browser, rp, plain_session) == ENDED  # it lived only as long as the sessions
    assert state_of(browser, rp, plain_offline) == ALIVE
    assert "organization" not in browser.get(
        "/userinfo", headers={"Authorization": f"Bearer {plain_offline['access_token']}"}).get_json()
    assert browser.get("/account").status_code in (302, 303)  # signed out of Passerelle
    with app.app_context():
        assert db.session.get(User, dli.members[SECONDARY_EMAIL]).is_active  # the account stays
    # The primary user is untouched.
    assert state_of(primary_browser, rp, primary_tokens) == ALIVE


def test_a_former_primary_who_leaves_loses_access_and_one_who_stays_sees_the_new_role(app, rp, run_idp):
    dli = dli_with_members(app, people=((PRIMARY_EMAIL, "primary"), (SECONDARY_EMAIL, "secondary"),
                                        ("lou@example.ca", "secondary")))
    primary_browser = signed_in(app, PRIMARY_EMAIL)
    primary_tokens = grant(primary_browser, rp, PRIMARY_EMAIL, ORG_OFFLINE)
    submit_and_approve(app, run_idp, dli, kind="change_primary", former_primary_becomes="leave",
                       target_membership_id=membership_id(app, dli.members[SECONDARY_EMAIL]))
    assert state_of(primary_browser, rp, primary_tokens) == ENDED

    # The new primary, who becomes a secondary again on the next change, keeps their tokens:
    # UserInfo tells the role of the moment.
    new_primary_browser = signed_in(app, SECONDARY_EMAIL)
    tokens = grant(new_primary_browser, rp, SECONDARY_EMAIL, ORG_OFFLINE)
    userinfo = new_primary_browser.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.get_json()["organization"]["role"] == "primary"
    with app.app_context():
        service = org_service()
        request = service.submit_request(dli.id, by_user_id=dli.members[SECONDARY_EMAIL], reason="Retour.",
                                         kind="change_primary", former_primary_becomes="secondary",
                                         target_membership_id=membership_id(app, dli.members["lou@example.ca"]))
        db.session.commit()
        request_id = request.id
    assert run_idp("orgs", "requests", "approve", str(request_id)).exit_code == 0
    assert state_of(new_primary_browser, rp, tokens) == ALIVE
    userinfo = new_primary_browser.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.get_json()["organization"]["role"] == "secondary"


def test_disabling_the_organization_ends_every_members_access_and_the_claim(app, rp, run_idp):
    dli = dli_with_members(app)
    browsers = {email: signed_in(app, email) for email in (PRIMARY_EMAIL, SECONDARY_EMAIL)}
    tokens = {email: grant(browsers[email], rp, email, ORG_OFFLINE) for email in browsers}
    assert run_idp("orgs", "disable", dli.public_id).exit_code == 0
    for email, browser in browsers.items():
        assert state_of(browser, rp, tokens[email]) == ENDED
        assert browser.get("/account").status_code in (302, 303)
    # Signing in again while disabled: no organization claim.
    fresh = grant(browsers[PRIMARY_EMAIL], rp, PRIMARY_EMAIL, ORG_SESSION)
    userinfo = browsers[PRIMARY_EMAIL].get("/userinfo", headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert userinfo.status_code == 200 and "organization" not in userinfo.get_json()
    # Enabling brings the claim back for new tokens, not the ended ones.
    assert run_idp("orgs", "enable", dli.public_id).exit_code == 0
    assert state_of(browsers[SECONDARY_EMAIL], rp, tokens[SECONDARY_EMAIL]) == ENDED
    userinfo = browsers[PRIMARY_EMAIL].get("/userinfo", headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert userinfo.get_json()["organization"]["id"] == dli.public_id


def test_disabling_twice_ends_nothing_more(app, rp, run_idp):
    dli = dli_with_members(app)
    assert run_idp("orgs", "disable", dli.public_id).exit_code == 0
    browser = signed_in(app, PRIMARY_EMAIL)
    tokens = grant(browser, rp, PRIMARY_EMAIL, ORG_OFFLINE)
    assert run_idp("orgs", "disable", dli.public_id).exit_code == 0  # already disabled: no change
    assert state_of(browser, rp, tokens) == ALIVE
