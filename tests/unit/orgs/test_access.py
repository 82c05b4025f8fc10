"""The organization claim's loader, the narrow revocation when a membership ends, seeding a
demo member, and attachments to relying parties (issue 11, phase 2a), on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.context import app_context
from idp.extensions import db
from idp.oidc.models import AuthorizationCode, Token
from idp.oidc.token_queries import GrantContext
from idp.oidc.tokens import TokenService
from idp.orgs.attachments import AttachmentService
from idp.orgs.claims import organization_claim
from idp.orgs.errors import AlreadyMember, OrganizationNotFound, PrimaryAlreadyExists
from idp.orgs.services import new_public_id
from tests.orgs_support import make_dli, make_user, org_service, org_with_members


@pytest.fixture
def service(app):
    with app.app_context():
        yield org_service()
        db.session.rollback()


def test_the_claim_is_the_active_membership_of_an_active_organization(service):
    organization, (_primary, primary_user), [(secondary, secondary_user)] = org_with_members(service)
    claim = organization_claim(db.session, primary_user.id)
    assert claim == {"id": organization.public_id, "kind": "dli", "number": "O123456789012",
                     "name": {"fr": "Collège Imaginaire", "en": "Imaginary College"}, "role": "primary"}
    assert organization_claim(db.session, secondary_user.id)["role"] == "secondary"
    assert organization_claim(db.session, make_user("zoe@example.ca").id) is None
    secondary.state = "ended"
    db.session.flush()
    assert organization_claim(db.session, secondary_user.id) is None
    service.disable(organization.id, by_operator="ana")
    assert organization_claim(db.session, primary_user.id) is None


def issue(tokens: TokenService, user_id: int, scope: str, grant_id: str) -> None:
    tokens.issue(GrantContext(grant_id=grant_id, client_id="rp", user_id=user_id, session_id=None, scope=scope),
                 include_refresh_token=True)


def test_only_grants_with_the_organization_scope_word_are_revoked(service):
    ctx = app_context()
    tokens = TokenService(db.session, ctx.settings, ctx.clock, ctx.hasher)
    user_id = make_user("zoe@example.ca").id
    other_id = make_user("bo@example.ca").id
    issue(tokens, user_id, "openid organization offline_access", "with")
    issue(tokens, user_id, "openid organizations offline_access", "lookalike")
    issue(tokens, user_id, "openid offline_access", "without")
    issue(tokens, other_id, "openid organization", "someone-else")
    tokens.create_code(GrantContext(grant_id="code-with", client_id="rp", user_id=user_id, session_id=None,
                                    scope="openid organization", auth_time=ctx.clock()),
                       redirect_uri="https://rp.example/cb", nonce=None, code_challenge=None, code_challenge_method=None)
    db.session.flush()
    tokens.revoke_grants_with_scope(user_id, "organization")
    revoked = {grant: revoked_at is not None for grant, revoked_at in db.session.execute(
        select(Token.grant_id, Token.revoked_at).execution_options(populate_existing=True))}
    assert revoked == {"with": True, "lookalike": False, "without": False, "someone-else": False}
    code = db.session.scalar(select(AuthorizationCode).execution_options(populate_existing=True))
    assert code.expires_at <= ctx.clock()


def test_seed_member_makes_an_existing_account_primary_once(service):
    organization = make_dli(service)
    user = make_user("demo@passerelle.test")
    first = service.seed_member(organization.id, user.id, "primary", by_operator="idp demo")
    assert service.seed_member(organization.id, user.id, "primary", by_operator="idp demo").id == first.id
    with pytest.raises(AlreadyMember):
        service.seed_member(organization.id, user.id, "secondary", by_operator="idp demo")
    with pytest.raises(PrimaryAlreadyExists):
        service.seed_member(organization.id, make_user("bo@example.ca").id, "primary", by_operator="idp demo")
    assert service.primary_of(organization.id).user_id == user.id


def test_a_client_finds_only_its_attached_organizations(service):
    from idp.oidc.clients import ClientService

    ctx = app_context()
    attachments = AttachmentService(db.session, ctx.clock)
    mine, theirs = make_dli(service), make_dli(service, number="O999999999999")
    rp, _secret = ClientService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(
        name="Portail", redirect_uris=["https://rp.example/cb"])
    assert attachments.attach(mine, rp.client_id, by_operator="ana") is True
    assert attachments.attach(mine, rp.client_id, by_operator="ana") is False
    assert attachments.organization_for_client(mine.public_id, rp.client_id).id == mine.id
    for reference in (theirs.public_id, "nope", "\x00", None, 5, mine.number):
        with pytest.raises(OrganizationNotFound):
            attachments.organization_for_client(reference, rp.client_id)
    assert [organization.id for organization in attachments.organizations_of(rp.client_id)] == [mine.id]


def test_public_ids_never_start_with_a_dash():
    assert not any(new_public_id().startswith("-") for _ in range(2000))
