"""OrganizationService on a real database: numbers, names, the one-primary rule held by the
database itself, memberships, invitations carrying the organization, disabling."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.audit import EventTag, SecurityEvent
from idp.context import app_context
from idp.extensions import db
from idp.invitations.models import InvitationState
from idp.mail.models import OutboxMessage
from idp.orgs.errors import (
    AlreadyMember,
    DuplicateOrganizationNumber,
    InvalidOrganization,
    NotPrimaryUser,
    OrganizationDisabled,
    OrganizationNotFound,
    PrimaryAlreadyExists,
)
from idp.orgs.models import Membership
from idp.orgs.memberships import Inviter
from tests.orgs_support import DLI_NUMBER, join, make_dli, make_user, org_service, org_with_members


@pytest.fixture
def service(app):
    with app.app_context():
        yield org_service()


def test_create_stores_the_number_in_one_form_and_both_names(service):
    organization = make_dli(service, number=" o123456789012 ", name_fr=" Collège Imaginaire ")
    assert organization.number == DLI_NUMBER
    assert organization.name_fr == "Collège Imaginaire" and organization.name_en == "Imaginary College"
    assert organization.is_active and len(organization.public_id) >= 16
    assert service.get(organization.public_id) is organization
    assert service.get(DLI_NUMBER) is organization
    assert service.get_by_number("dli", "O123456789012") is organization
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.tag == EventTag.ORGANIZATION_CREATED))
    assert event.details["organization"] == organization.public_id and event.details["by"] == "ana"


@pytest.mark.parametrize("number", ["123456789012", "O12345678901", "O1234567890123", "X123456789012", "O12345678901A", ""])
def test_a_dli_number_must_be_the_letter_o_and_twelve_digits(service, number):
    with pytest.raises(InvalidOrganization) as refused:
        make_dli(service, number=number)
    assert refused.value.field == "number"


def test_a_duplicate_number_is_refused_within_a_kind_only(service):
    make_dli(service)
    with pytest.raises(DuplicateOrganizationNumber):
        make_dli(service, number="o123456789012")
    school = service.create(kind="issuer", number=DLI_NUMBER, name_fr="École", name_en="School", by_operator="ana")
    assert school.kind == "issuer"
    with pytest.raises(InvalidOrganization):  # the number alone no longer names one organization
        service.get(DLI_NUMBER)


def test_the_database_refuses_a_duplicate_number_even_past_the_service(service):
    first = make_dli(service)
    db.session.commit()
    twin = make_dli(service, number="O999999999999")
    twin.number = first.number
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("name", [
    "Collège <script>alert(1)</script>",
    "Collège <b>Imaginaire</b>",
    "Collège \u202eeriaganimI",  # right-to-left override (Trojan Source)
    "Collège\u2066 Imaginaire",
    "Collège\u200b Imaginaire",
    "Collège\nImaginaire",
    "x" * 201,
    "   ",
])
def test_names_with_markup_bidi_controls_or_line_breaks_are_refused(service, name):
    with pytest.raises(InvalidOrganization) as refused:
        make_dli(service, name_en=name)
    assert refused.value.field == "name_en"
    assert service.list() == []


def test_unknown_kind_and_unknown_organization_are_clear_errors(service):
    with pytest.raises(InvalidOrganization):
        service.create(kind="bank", number="1", name_fr="B", name_en="B", by_operator="ana")
    with pytest.raises(OrganizationNotFound):
        service.get("nope")
    with pytest.raises(OrganizationNotFound):
        service.get("\x00" * 3)


def test_the_database_allows_only_one_active_primary_per_organization(service):
    organization, (primary, _), [(secondary, _)] = org_with_members(service)
    db.session.commit()
    secondary.role = "primary"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # An ended primary does not count: the index covers active primaries only.
    primary = db.session.get(Membership, primary.id)
    primary.state = "ended"
    db.session.flush()
    db.session.get(Membership, secondary.id).role = "primary"
    db.session.flush()


def test_the_database_allows_one_membership_per_person_and_organization(service):
    organization, (primary, user), _ = org_with_members(service, ())
    db.session.commit()
    db.session.add(Membership(organization_id=organization.id, user_id=user.id, role="secondary", state="ended"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_joining_makes_a_member_with_the_invitation_role_and_inviter(service):
    organization, (primary, primary_user), [(secondary, user)] = org_with_members(service)
    assert primary.role == "primary" and primary.invited_by_operator == "ana"
    assert secondary.role == "secondary" and secondary.organization_id == organization.id
    members = service.members(organization.id)
    assert [(m.role, u.email) for m, u in members] == [("primary", "pat@example.ca"), ("secondary", "sam@example.ca")]
    assert service.memberships_of(user.id)[0][1] is organization


def test_a_primary_invites_secondaries_and_is_recorded_as_inviter(service):
    organization, (primary, primary_user), _ = org_with_members(service, ())
    membership, _user = join(service, organization, "lou@example.ca", inviter=Inviter(user_id=primary_user.id))
    assert membership.invited_by_user_id == primary_user.id and membership.invited_by_operator is None


def test_a_secondary_a_stranger_or_another_primary_cannot_invite(service):
    organization, (primary, primary_user), [(secondary, secondary_user)] = org_with_members(service)
    other = make_dli(service, number="O222222222222")
    _other_primary, other_user = join(service, other, "oli@example.ca", "primary")
    stranger = make_user("eve@example.ca")
    for user_id in (secondary_user.id, stranger.id, other_user.id):
        with pytest.raises(NotPrimaryUser):
            service.invite(organization.id, email="new@example.ca", role="secondary", inviter=Inviter(user_id=user_id))
    with pytest.raises(NotPrimaryUser):  # a primary invites secondaries only
        service.invite(organization.id, email="new@example.ca", role="primary", inviter=Inviter(user_id=primary_user.id))


def test_inviting_a_member_or_a_second_primary_is_refused(service):
    organization, _, _ = org_with_members(service)
    with pytest.raises(AlreadyMember):
        service.invite(organization.id, email="SAM@example.ca", role="secondary", inviter=Inviter(operator="ana"))
    with pytest.raises(PrimaryAlreadyExists):
        service.invite(organization.id, email="new@example.ca", role="primary", inviter=Inviter(operator="ana"))
    with pytest.raises(InvalidOrganization):
        service.invite(organization.id, email="not an address", role="secondary", inviter=Inviter(operator="ana"))


def test_an_invitation_carries_its_organization_and_role_and_replaces_the_earlier_one(service, clock):
    organization = make_dli(service)
    first, _ = service.invite(organization.id, email="pat@example.ca", role="primary", inviter=Inviter(operator="ana"))
    second, code = service.invite(organization.id, email="Pat@Example.ca", role="primary", inviter=Inviter(operator="bo"))
    other, _ = service.invite(organization.id, email="kim@example.ca", role="primary", inviter=Inviter(operator="ana"))
    assert (other.organization_id, other.organization_role, other.kind) == (organization.id, "primary", "code")
    assert other.inviter_name == "Collège Imaginaire"  # BABEL_DEFAULT_LOCALE fr
    db.session.expire_all()
    # One live invitation per address, and one live primary invitation per organization.
    assert first.state_at(clock()) == InvitationState.REVOKED
    assert second.state_at(clock()) == InvitationState.REVOKED
    assert [i.email for i in service.pending_invitations(organization.id)] == ["kim@example.ca"]
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "invitation-code")).all()
    assert len(message) == 3


def test_an_invitation_of_organization_a_joins_a_never_b(service):
    a = make_dli(service)
    b = make_dli(service, number="O222222222222", name_fr="B", name_en="B")
    membership, user = join(service, a, "pat@example.ca", "primary")
    assert membership.organization_id == a.id
    assert service.members(b.id) == []
    assert service.memberships_of(user.id)[0][1] is a


def test_joining_twice_is_refused(service):
    organization = make_dli(service)
    invitation, _ = service.invite(organization.id, email="pat@example.ca", role="primary", inviter=Inviter(operator="a"))
    user = make_user("pat@example.ca")
    service.join_from_invitation(invitation, user)
    with pytest.raises(AlreadyMember):
        service.join_from_invitation(invitation, user)


def test_a_second_primary_invitation_cannot_join_while_a_primary_exists(service):
    organization = make_dli(service)
    invitation, _ = service.invite(organization.id, email="pat@example.ca", role="primary", inviter=Inviter(operator="a"))
    join(service, organization, "kim@example.ca", "primary")  # revoked pat's; kim registered
    with pytest.raises(PrimaryAlreadyExists):
        service.join_from_invitation(invitation, make_user("pat@example.ca"))


def test_disabling_revokes_pending_invitations_refuses_joining_and_tells_members(service, clock):
    organization, _, _ = org_with_members(service)
    invitation, _ = service.invite(organization.id, email="new@example.ca", role="secondary", inviter=Inviter(operator="a"))
    db.session.query(OutboxMessage).delete()
    service.disable(organization.id, by_operator="ana")
    assert not organization.is_active and organization.disabled_at == clock()
    db.session.expire_all()
    assert invitation.state_at(clock()) == InvitationState.REVOKED
    with pytest.raises(OrganizationDisabled):
        service.join_from_invitation(invitation, make_user("new@example.ca"))
    with pytest.raises(OrganizationDisabled):
        service.invite(organization.id, email="x@example.ca", role="secondary", inviter=Inviter(operator="a"))
    told = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "organization-status-changed")).all()
    assert sorted(m.to_address for m in told) == ["pat@example.ca", "sam@example.ca"]
    # Disabling again changes nothing and tells nobody again.
    service.disable(organization.id, by_operator="ana")
    assert db.session.query(OutboxMessage).count() == 2
    service.enable(organization.id, by_operator="ana")
    assert organization.is_active and organization.disabled_at is None
    tags = set(db.session.scalars(select(SecurityEvent.tag)))
    assert {EventTag.ORGANIZATION_DISABLED, EventTag.ORGANIZATION_ENABLED} <= tags


def test_the_invitation_email_of_an_organization_carries_its_code_even_for_an_existing_account(app, service):
    from idp.invitations.mailing import email_context

    organization = make_dli(service)
    make_user("pat@example.ca")
    invitation, code = service.invite(organization.id, email="pat@example.ca", role="primary", inviter=Inviter(operator="a"))
    context = email_context(db.session, app_context().settings, invitation, code)
    assert context["has_account"] is False and context["code"] == code


def test_twenty_parallel_registrations_with_one_invitation_make_one_membership(app, service):
    """Each worker accepts the invitation for its own new account and joins, as registration
    does: the invitation's conditional UPDATE lets exactly one through."""
    import threading

    from idp.invitations.errors import InvitationAlreadyUsed

    organization = make_dli(service)
    invitation, _ = service.invite(organization.id, email="pat@example.ca", role="primary", inviter=Inviter(operator="a"))
    user_ids = [make_user(f"p{n}@example.ca").id for n in range(20)]
    db.session.commit()
    invitation_id = invitation.id
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def register(user_id: int) -> None:
        from idp.accounts.models import User

        with app.app_context():
            worker = org_service()
            barrier.wait()
            try:
                accepted = worker.invitations.accept(invitation_id, user_id)
                worker.join_from_invitation(accepted, db.session.get(User, user_id))
                db.session.commit()
                outcomes.append("joined")
            except InvitationAlreadyUsed:
                db.session.rollback()
                outcomes.append("already used")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register, args=(user_id,)) for user_id in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["already used"] * 19 + ["joined"]
    db.session.expire_all()
    assert len(service.members(organization.id)) == 1


@pytest.mark.parametrize(("typed", "stored"), [
    ("O123456789012", "O123456789012"),
    ("o123456789012", "O123456789012"),
    ("0123456789012", "O123456789012"),  # a zero typed for the letter O
    (" O 1234 5678 9012 ", "O123456789012"),
    ("Ｏ１２３４５６７８９０１２", "O123456789012"),  # full-width, from some keyboards
])
def test_a_dli_number_is_read_in_the_forms_people_type_it(service, typed, stored):
    assert make_dli(service, number=typed).number == stored


def test_an_issuer_number_is_letters_digits_and_hyphens(service):
    school = service.create(kind="issuer", number="ecole-42", name_fr="École", name_en="School", by_operator="a")
    assert school.number == "ECOLE-42"
    with pytest.raises(InvalidOrganization):
        service.create(kind="issuer", number="école 42!", name_fr="É", name_en="S", by_operator="a")
