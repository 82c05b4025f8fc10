"""What the primary user's pages ask of the services (issue 11, phase 2b): the invitations
not yet used, resending and withdrawing only their own organization's secondary
invitations, the organization's requests, and addresses refused by the kind of mistake."""

from __future__ import annotations

import pytest

from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.orgs.errors import InvalidOrganization, InvitationNotOpen, NotPrimaryUser, OrganizationDisabled
from idp.orgs.memberships import Inviter
from tests.orgs_support import OPERATOR, join, make_dli, org_service, org_with_members


@pytest.fixture
def service(app):
    with app.app_context():
        yield org_service()


@pytest.fixture
def dli(service):
    """(organization, primary user id, secondary membership)"""
    organization, (_primary, primary_user), [(secondary, _user)] = org_with_members(service)
    return organization, primary_user.id, secondary


def invite(service, organization, primary_id, email="lou@example.ca"):
    invitation, _code = service.invite(organization.id, email=email, role="secondary", inviter=Inviter(user_id=primary_id))
    return invitation


def test_open_invitations_are_pending_first_then_expired_never_used_or_withdrawn(service, dli, clock):
    organization, primary_id, _secondary = dli
    old = invite(service, organization, primary_id, "old@example.ca")
    clock.advance(days=15)
    fresh = invite(service, organization, primary_id, "new@example.ca")
    gone = invite(service, organization, primary_id, "gone@example.ca")
    service.withdraw_invitation(organization.id, gone.id, by_user_id=primary_id)
    assert [invitation.email for invitation in service.open_invitations(organization.id)] == [
        fresh.email, old.email,
    ]


def test_resend_replaces_the_code_and_withdraw_revokes_it_each_recorded(service, dli):
    organization, primary_id, _secondary = dli
    invitation = invite(service, organization, primary_id)
    first_hash = invitation.secret_hash
    service.resend_invitation(organization.id, invitation.id, by_user_id=primary_id)
    assert invitation.secret_hash != first_hash and invitation.send_count == 2
    service.withdraw_invitation(organization.id, invitation.id, by_user_id=primary_id)
    assert invitation.revoked_at is not None
    with pytest.raises(InvitationNotOpen):
        service.resend_invitation(organization.id, invitation.id, by_user_id=primary_id)
    tags = [event.tag for event in db.session.query(SecurityEvent).filter_by(user_id=primary_id)]
    assert tags.count(EventTag.ORGANIZATION_MEMBER_INVITED) == 2
    assert EventTag.ORGANIZATION_INVITATION_WITHDRAWN in tags


def test_another_organizations_invitation_or_a_primary_invitation_is_not_open(service, dli):
    organization, primary_id, _secondary = dli
    other = make_dli(service, number="O999999999999")
    theirs, _code = service.invite(other.id, email="zed@example.ca", role="secondary", inviter=OPERATOR)
    primary_invitation, _code = service.invite(other.id, email="boss@example.ca", role="primary", inviter=OPERATOR)
    join(service, other, "bo@example.ca", "secondary")
    for invitation_id in (theirs.id, primary_invitation.id, 99999, "1", None):
        with pytest.raises(InvitationNotOpen):
            service.withdraw_invitation(organization.id, invitation_id, by_user_id=primary_id)
    assert theirs.revoked_at is None


def test_only_the_active_primary_of_an_active_organization_resends_or_reads_requests(service, dli):
    organization, primary_id, secondary = dli
    invitation = invite(service, organization, primary_id)
    with pytest.raises(NotPrimaryUser):
        service.resend_invitation(organization.id, invitation.id, by_user_id=secondary.user_id)
    with pytest.raises(NotPrimaryUser):
        service.requests_of(organization.id, by_user_id=secondary.user_id)
    service.disable(organization.id, by_operator="ana")
    with pytest.raises(OrganizationDisabled):
        service.requests_of(organization.id, by_user_id=primary_id)


def test_requests_of_lists_the_organizations_requests_newest_first_with_the_person(service, dli):
    organization, primary_id, secondary = dli
    removal = service.submit_request(organization.id, by_user_id=primary_id, kind="remove_secondary",
                                     target_membership_id=secondary.id, reason="Left.")
    change = service.submit_request(organization.id, by_user_id=primary_id, kind="change_primary",
                                    new_email="nia@example.ca", former_primary_becomes="leave", reason="Retiring.")
    rows = service.requests_of(organization.id, by_user_id=primary_id)
    assert [(request.id, user.email if user else None) for request, user in rows] == [
        (change.id, None), (removal.id, "sam@example.ca"),
    ]


@pytest.mark.parametrize(("email", "problem"), [
    ("", "missing"), ("<b>x</b>@example.ca", "markup"), ("x\u202e@example.ca", "bidi"),
    ("x" * 321, "too_long"), ("not an address", "email"), (None, "missing"),
])
def test_an_invited_address_is_refused_with_the_kind_of_mistake(service, dli, email, problem):
    organization, primary_id, _secondary = dli
    with pytest.raises(InvalidOrganization) as refused:
        invite(service, organization, primary_id, email)
    assert (refused.value.field, refused.value.problem) == ("email", problem)
