"""Change requests on a real database: only the primary submits, with a clean reason; an
approval applies exactly once, even when two operators approve at once; each state change
is an audit event and an email to the requester and the person concerned, in their language."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.mail.models import OutboxMessage
from idp.orgs.errors import (
    AlreadyMember,
    InvalidOrganization,
    LastPrimaryCannotBeRemoved,
    MemberNotFound,
    NotPrimaryUser,
    OrganizationDisabled,
    RequestAlreadyDecided,
    RequestAlreadyPending,
    RequestNotFound,
)
from idp.orgs.models import ChangeRequest, Membership
from tests.orgs_support import make_user, org_service, org_with_members


@pytest.fixture
def service(app):
    with app.app_context():
        yield org_service()


@pytest.fixture
def org(service):
    """A DLI: primary pat (French), secondaries sam (English) and lou."""
    organization, (primary, pat), members = org_with_members(service, ("sam@example.ca", "lou@example.ca"))
    members[0][1].locale = "en"
    db.session.query(OutboxMessage).delete()
    db.session.flush()
    return organization, primary, pat, members


def remove(service, org, target, reason="Sam a quitté l'établissement."):
    organization, _primary, pat, _ = org
    return service.submit_request(organization.id, by_user_id=pat.id, kind="remove_secondary", reason=reason,
                                  target_membership_id=target.id)


def outbox(template: str) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id))
    return [(row.to_address, row.locale) for row in rows]


def test_submitting_records_an_event_and_tells_the_requester_and_the_member_in_their_language(service, org):
    _organization, _primary, pat, [(sam, _), _] = org
    request = remove(service, org, sam)
    assert request.state == "pending" and request.reason == "Sam a quitté l'établissement."
    assert outbox("organization-request-submitted") == [("pat@example.ca", "fr"), ("sam@example.ca", "en")]
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.tag == EventTag.ORGANIZATION_REQUEST_SUBMITTED))
    assert event.user_id == pat.id and event.details["request"] == request.public_id


def test_only_the_primary_of_this_organization_submits(service, org):
    organization, _primary, _pat, [(sam, sam_user), (lou, _)] = org
    stranger = make_user("eve@example.ca")
    for user_id in (sam_user.id, stranger.id):
        with pytest.raises(NotPrimaryUser):
            service.submit_request(organization.id, by_user_id=user_id, kind="remove_secondary", reason="r",
                                   target_membership_id=lou.id)


@pytest.mark.parametrize("reason", ["", "  ", "<img src=x onerror=alert(1)>", "Parti \u202etnemetros", "a\u2067b", "x" * 1001])
def test_a_reason_is_required_without_markup_or_bidi_controls(service, org, reason):
    _organization, _primary, _pat, [(sam, _), _] = org
    with pytest.raises(InvalidOrganization) as refused:
        remove(service, org, sam, reason=reason)
    assert refused.value.field == "reason"
    assert db.session.query(ChangeRequest).count() == 0


def test_a_reason_may_have_several_lines(service, org):
    _organization, _primary, _pat, [(sam, _), _] = org
    assert remove(service, org, sam, reason="Parti.\nRemplacé par Lou.").reason == "Parti.\nRemplacé par Lou."


def test_the_primary_cannot_be_removed_nor_a_member_of_another_organization(service, org):
    organization, primary, pat, _ = org
    with pytest.raises(LastPrimaryCannotBeRemoved):
        remove(service, org, primary)
    other, (other_primary, _), _ = org_with_members_of_other(service)
    with pytest.raises(MemberNotFound):
        remove(service, org, other_primary)


def org_with_members_of_other(service):
    from tests.orgs_support import join, make_dli

    other = make_dli(service, number="O222222222222", name_fr="Autre", name_en="Other")
    return other, join(service, other, "oli@example.ca", "primary"), []


def test_a_duplicate_pending_request_is_refused(service, org):
    _organization, _primary, _pat, [(sam, _), _] = org
    remove(service, org, sam)
    with pytest.raises(RequestAlreadyPending):
        remove(service, org, sam)


def test_approving_remove_secondary_ends_the_membership_and_tells_both(service, org, clock):
    organization, _primary, pat, [(sam, sam_user), (lou, _)] = org
    request = remove(service, org, sam)
    service.approve(request.public_id, by_operator="ops", reason="Vérifié auprès de l'établissement.")
    assert request.state == "approved" and request.decided_by == "ops" and request.decided_at == clock()
    assert sam.state == "ended" and sam.ended_at == clock()
    assert lou.is_active
    assert [u.email for _m, u in service.members(organization.id)] == ["pat@example.ca", "lou@example.ca"]
    assert outbox("organization-request-decided") == [("pat@example.ca", "fr"), ("sam@example.ca", "en")]
    tags = list(db.session.scalars(select(SecurityEvent.tag).order_by(SecurityEvent.id)))
    assert EventTag.ORGANIZATION_REQUEST_APPROVED in tags and EventTag.ORGANIZATION_MEMBER_ENDED in tags


def test_approving_change_primary_to_a_secondary_moves_the_role_and_leaves_the_others(service, org):
    organization, primary, pat, [(sam, _), (lou, _)] = org
    request = service.submit_request(organization.id, by_user_id=pat.id, kind="change_primary",
                                     reason="Pat change de poste.", target_membership_id=sam.id,
                                     former_primary_becomes="secondary")
    service.approve(request.id, by_operator="ops")
    assert (primary.role, primary.state) == ("secondary", "active")
    assert (sam.role, lou.role) == ("primary", "secondary")
    assert service.primary_of(organization.id) is sam


def test_approving_change_primary_with_leave_ends_the_former_primary(service, org):
    organization, primary, pat, [(sam, _), _] = org
    request = service.submit_request(organization.id, by_user_id=pat.id, kind="change_primary", reason="Départ.",
                                     target_membership_id=sam.id, former_primary_becomes="leave")
    service.approve(str(request.id), by_operator="ops")
    assert primary.state == "ended" and sam.role == "primary"


def test_change_primary_to_a_new_address_moves_the_role_when_they_register(service, org):
    organization, primary, pat, _ = org
    with pytest.raises(AlreadyMember):
        service.submit_request(organization.id, by_user_id=pat.id, kind="change_primary", reason="r",
                               new_email="sam@example.ca", former_primary_becomes="secondary")
    request = service.submit_request(organization.id, by_user_id=pat.id, kind="change_primary", reason="Départ.",
                                     new_email="Kim@Example.ca", new_locale="en", former_primary_becomes="leave")
    service.approve(request.public_id, by_operator="ops")
    invitation = request.invitation_id and service.invitations.get(request.invitation_id)
    assert (invitation.email, invitation.organization_role, invitation.locale) == ("kim@example.ca", "primary", "en")
    assert primary.role == "primary" and primary.is_active  # never without a primary meanwhile
    kim = make_user("kim@example.ca")
    service.invitations.accept(invitation.id, kim.id)
    db.session.query(OutboxMessage).delete()
    joined = service.join_from_invitation(invitation, kim)
    assert joined.role == "primary" and primary.state == "ended"
    assert outbox("organization-request-decided") == [("pat@example.ca", "fr")]  # it took effect
    assert service.primary_of(organization.id) is joined


def test_a_request_is_decided_once(service, org):
    _organization, _primary, _pat, [(sam, _), _] = org
    request = remove(service, org, sam)
    service.approve(request.id, by_operator="ops")
    with pytest.raises(RequestAlreadyDecided):
        service.approve(request.id, by_operator="ops")
    with pytest.raises(RequestAlreadyDecided):
        service.reject(request.id, by_operator="ops")
    with pytest.raises(RequestNotFound):
        service.approve("99999", by_operator="ops")


def test_rejecting_changes_nothing_but_the_request_and_says_why(service, org):
    _organization, _primary, _pat, [(sam, _), _] = org
    request = remove(service, org, sam)
    service.reject(request.id, by_operator="ops", reason="Aucune preuve du départ.")
    assert request.state == "rejected" and request.decision_reason == "Aucune preuve du départ."
    assert sam.is_active
    with pytest.raises(InvalidOrganization):
        service.reject(remove_lou(service, org).id, by_operator="ops", reason="<b>non</b>")


def remove_lou(service, org):
    return remove(service, org, org[3][1][0])


def test_a_request_of_a_disabled_organization_cannot_be_approved(service, org):
    organization, _primary, _pat, [(sam, _), _] = org
    request = remove(service, org, sam)
    service.disable(organization.id, by_operator="ops")
    with pytest.raises(OrganizationDisabled):
        service.approve(request.id, by_operator="ops")
    db.session.expire_all()
    assert request.state == "pending" and sam.is_active


def test_a_removal_refused_when_the_target_became_primary_meanwhile(service, org):
    organization, _primary, pat, [(sam, _), _] = org
    removal = remove(service, org, sam)
    change = service.submit_request(organization.id, by_user_id=pat.id, kind="change_primary", reason="r",
                                    target_membership_id=sam.id, former_primary_becomes="secondary")
    service.approve(change.id, by_operator="ops")
    with pytest.raises(LastPrimaryCannotBeRemoved):
        service.approve(removal.id, by_operator="ops")


def test_two_operators_approving_at_once_apply_it_exactly_once(app, service, org):
    organization, _primary, pat, [(sam, _), _] = org
    request = service.submit_request(organization.id, by_user_id=pat.id, kind="change_primary", reason="r",
                                     target_membership_id=sam.id, former_primary_becomes="secondary")
    db.session.commit()
    request_id = request.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(operator: str) -> None:
        with app.app_context():
            other = org_service()
            other.get_request(request_id)  # each read it as pending first
            barrier.wait()
            try:
                other.approve(request_id, by_operator=operator)
                db.session.commit()
                outcomes.append("approved")
            except RequestAlreadyDecided:
                db.session.rollback()
                outcomes.append("already decided")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(name,)) for name in ("ana", "bo")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["already decided", "approved"]
    db.session.expire_all()
    roles = dict(db.session.execute(select(Membership.id, Membership.role)).all())
    assert list(roles.values()).count("primary") == 1 and roles[sam.id] == "primary"
    approvals = db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == EventTag.ORGANIZATION_REQUEST_APPROVED))
    assert len(list(approvals)) == 1
