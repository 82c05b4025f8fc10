"""Becoming a member: the organization's invitations (send, resend, withdraw) and joining
through one at registration, the demo seed, and a primary user stepping down. No Flask here;
the CLI, the pages, the API and registration call this and commit.

The decisions are services.py's (an organization account is dedicated; one live invitation
per address and organization; a primary invitation only while there is no active primary).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.invitations.errors import InvitationError
from idp.invitations.models import (
    CreatorKind,
    Invitation,
    InvitationKind,
    InvitationState,
)
from idp.invitations.services import InvitationService
from idp.orgs.errors import (
    AlreadyMember,
    InvalidOrganization,
    InvitationNotOpen,
    NotPrimaryUser,
    OrganizationDisabled,
    PrimaryAlreadyExists,
)
from idp.orgs.models import (
    ChangeRequest,
    FormerPrimaryBecomes,
    MemberRole,
    Membership,
    MembershipState,
    Organization,
    RequestState,
)
from idp.orgs.services import DECIDED_TEMPLATE, LOCALES, OrganizationService, address_of


@dataclass(frozen=True)
class Inviter:
    """Who invites: an operator by name, or a member (the primary user) by user id."""

    operator: str | None = None
    user_id: int | None = None

    def creator_id(self, organization: Organization) -> str:
        """The invitation's created_by_id (its created_by_kind is "organization"):
        "<organization>/operator:<name>" or "<organization>/user:<id>". Scoped by organization,
        so the invitations service's "one live invitation per address and creator" never
        lets one organization's invitation revoke another's."""
        who = f"user:{self.user_id}" if self.user_id is not None else f"operator:{self.operator}"
        return f"{organization.public_id}/{who}"[:200]

    @classmethod
    def of(cls, invitation: Invitation) -> Inviter:
        """Who made this organization invitation (the reverse of creator_id)."""
        _organization, _, who = (invitation.created_by_id or "").partition("/")
        kind, _, value = who.partition(":")
        if kind == "user" and value.isdigit():
            return cls(user_id=int(value))
        return cls(operator=value or None)


class MembershipService(OrganizationService):
    """Organizations, and how people become, stay and stop being their members."""

    def invite(
        self, organization_id: int, *, email: str, role: str, inviter: Inviter, locale: str | None = None,
    ) -> tuple[Invitation, str]:
        """Create a code invitation to this organization with this role and queue its email.

        A primary user invites secondary users only; an operator invites either role, a
        primary only while the organization has no active primary. Returns the invitation
        and its plain code. Raises OrganizationNotFound, OrganizationDisabled,
        NotPrimaryUser, PrimaryAlreadyExists, AlreadyMember (the address is a member of
        this organization already), InvalidOrganization(field).
        """
        organization = self._reload(organization_id)
        if role not in tuple(MemberRole):
            raise InvalidOrganization("role", "must be primary or secondary")
        if inviter.user_id is not None:
            self.ensure_primary(organization.id, inviter.user_id)
            if role != MemberRole.SECONDARY:
                raise NotPrimaryUser
        elif not inviter.operator:
            raise InvalidOrganization("inviter", "missing")
        if not organization.is_active:
            raise OrganizationDisabled
        if role == MemberRole.PRIMARY and self.primary_of(organization.id) is not None:
            raise PrimaryAlreadyExists
        # Concurrent invitations to one organization take turns (PostgreSQL; SQLite has one
        # writer), so "one live invitation per address" holds: each revokes the one before.
        self.session.execute(select(Organization.id).where(Organization.id == organization.id).with_for_update())
        return self._create_invitation(organization, email=email, role=role, inviter=inviter, locale=locale)

    def _create_invitation(
        self, organization: Organization, *, email: str, role: str, inviter: Inviter, locale: str | None,
    ) -> tuple[Invitation, str]:
        address = address_of(email)
        if self._member_with_address(organization.id, address) is not None:
            raise AlreadyMember
        locale = locale if locale in LOCALES else self.settings.BABEL_DEFAULT_LOCALE
        self._revoke_pending(organization.id, address, primary_too=role == MemberRole.PRIMARY)
        try:
            invitation, plain_code = self.invitations.create(
                email=address, kind=InvitationKind.CODE, locale=locale, inviter_name=organization.name_in(locale),
                created_by_kind=CreatorKind.ORGANIZATION, created_by_id=inviter.creator_id(organization),
            )
        except InvitationError as error:
            raise InvalidOrganization(getattr(error, "field", "email"), getattr(error, "reason", "refused")) from None
        invitation.organization_id = organization.id
        invitation.organization_role = role
        self.session.flush()
        self.invitations.send(invitation, plain_code, self.mail)
        record_event(
            self.session, self.clock, EventTag.ORGANIZATION_MEMBER_INVITED, user_id=inviter.user_id,
            **self._org_details(organization), invitation_id=invitation.id, role=role, by=inviter.operator,
        )
        return invitation, plain_code

    def _member_with_address(self, organization_id: int, address: str) -> Membership | None:
        return self.session.scalar(
            select(Membership).join(User, User.id == Membership.user_id)
            .where(Membership.organization_id == organization_id, User.email == address)
        )

    def _revoke_pending(self, organization_id: int, address: str, *, primary_too: bool) -> None:
        """One live invitation per address and organization, and one primary invitation."""
        same = Invitation.email == address
        if primary_too:
            same = same | (Invitation.organization_role == MemberRole.PRIMARY)
        self.session.execute(
            update(Invitation)
            .where(Invitation.organization_id == organization_id, same,
                   *InvitationService._state_clause(InvitationState.PENDING, self.clock()))
            .values(revoked_at=self.clock())
            .execution_options(synchronize_session=False)
        )

    def open_invitations(self, organization_id: int) -> list[Invitation]:
        """The organization's invitations nobody registered with nor withdrew: pending, then
        expired (issue 11: the inviter sees an invitation pending, then expired), newest first."""
        now = self.clock()
        return list(self.session.scalars(
            select(Invitation)
            .where(Invitation.organization_id == organization_id,
                   Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
            .order_by((Invitation.expires_at > now).desc(), Invitation.id.desc())
        ))

    def resend_invitation(self, organization_id: int, invitation_id: object, *, by_user_id: int) -> Invitation:
        """The primary user sends a secondary user's invitation again, with a new code and a
        new validity period; the earlier code stops working. Raises NotPrimaryUser,
        OrganizationDisabled, InvitationNotOpen."""
        organization, invitation = self._open_secondary_invitation(organization_id, invitation_id, by_user_id)
        invitation, plain_code = self.invitations.resend(invitation.id)
        self.invitations.send(invitation, plain_code, self.mail)
        record_event(self.session, self.clock, EventTag.ORGANIZATION_MEMBER_INVITED, user_id=by_user_id,
                     **self._org_details(organization), invitation_id=invitation.id, role=invitation.organization_role,
                     resent=True)
        return invitation

    def withdraw_invitation(self, organization_id: int, invitation_id: object, *, by_user_id: int) -> Invitation:
        """The primary user withdraws a secondary user's invitation: its code stops working.
        Raises NotPrimaryUser, OrganizationDisabled, InvitationNotOpen."""
        organization, invitation = self._open_secondary_invitation(organization_id, invitation_id, by_user_id)
        invitation = self.invitations.revoke(invitation.id)
        record_event(self.session, self.clock, EventTag.ORGANIZATION_INVITATION_WITHDRAWN, user_id=by_user_id,
                     **self._org_details(organization), invitation_id=invitation.id)
        return invitation

    def _open_secondary_invitation(
        self, organization_id: int, invitation_id: object, by_user_id: int,
    ) -> tuple[Organization, Invitation]:
        """A pending or expired secondary invitation of this organization, for its primary
        user. A primary invitation (an approved change of primary) is the operators' to
        manage: to the primary user it does not exist, nor does another organization's."""
        self.ensure_primary(organization_id, by_user_id)
        # Only ids a row can have reach the database (SQLite overflows past 64 bits).
        is_id = isinstance(invitation_id, int) and 0 < invitation_id < 2**63
        invitation = self.session.get(Invitation, invitation_id) if is_id else None
        if (
            invitation is None
            or invitation.organization_id != organization_id
            or invitation.organization_role != MemberRole.SECONDARY
            or invitation.accepted_at is not None
            or invitation.revoked_at is not None
        ):
            raise InvitationNotOpen
        return self._reload(organization_id), invitation

    def seed_member(self, organization_id: int, user_id: int, role: str, *, by_operator: str) -> Membership:
        """Make an existing account a member directly, without an invitation. For operators'
        demo and seed data only (`idp demo` makes the demo user the demo DLI's primary user):
        everywhere else organization accounts are dedicated and membership comes only from
        registering with the organization's invitation (join_from_invitation).

        Idempotent: the account's active membership with this role is returned as it is.
        Raises OrganizationNotFound, InvalidOrganization (role), AlreadyMember (a membership
        in another role or state), PrimaryAlreadyExists (another active primary).
        """
        organization = self._reload(organization_id)
        if role not in tuple(MemberRole):
            raise InvalidOrganization("role", "must be primary or secondary")
        existing = self.session.scalar(select(Membership).where(
            Membership.organization_id == organization.id, Membership.user_id == user_id))
        if existing is not None:
            if existing.is_active and existing.role == role:
                return existing
            raise AlreadyMember
        if role == MemberRole.PRIMARY and self.primary_of(organization.id) is not None:
            raise PrimaryAlreadyExists
        now = self.clock()
        membership = Membership(organization_id=organization.id, user_id=user_id, role=role,
                                state=MembershipState.ACTIVE, invited_by_operator=by_operator, invited_at=now,
                                created_at=now, updated_at=now)
        self.session.add(membership)
        self.session.flush()
        record_event(self.session, self.clock, EventTag.ORGANIZATION_MEMBER_JOINED, user_id=user_id,
                     **self._org_details(organization), role=role, by=by_operator, seeded=True)
        return membership

    def join_from_invitation(self, invitation: Invitation, user: User) -> Membership:
        """Make the person who just registered with this organization invitation a member,
        with the role it carries (registration calls this when the invitation is accepted).

        A primary invitation sent on an approved change of primary moves the role now: the
        former primary becomes a secondary or leaves, as the request said. Raises
        OrganizationNotFound, OrganizationDisabled, AlreadyMember, PrimaryAlreadyExists (the
        registration is then refused whole: the caller rolls back).
        """
        organization = self._reload(invitation.organization_id)
        if not organization.is_active:
            raise OrganizationDisabled
        if self.session.scalar(select(Membership.id).where(
            Membership.organization_id == organization.id, Membership.user_id == user.id
        )) is not None:
            raise AlreadyMember
        role = invitation.organization_role or MemberRole.SECONDARY
        if role == MemberRole.PRIMARY:
            self._make_room_for_primary(organization, invitation, user)
        inviter = Inviter.of(invitation)
        now = self.clock()
        membership = Membership(
            organization_id=organization.id, user_id=user.id, role=role, state=MembershipState.ACTIVE,
            invited_by_user_id=inviter.user_id, invited_by_operator=inviter.operator,
            invited_at=invitation.created_at, invitation_id=invitation.id, created_at=now, updated_at=now,
        )
        self.session.add(membership)
        try:
            self.session.flush()
        except IntegrityError:
            # Another registration made this person a member, or another primary, first.
            raise (PrimaryAlreadyExists if role == MemberRole.PRIMARY else AlreadyMember) from None
        record_event(self.session, self.clock, EventTag.ORGANIZATION_MEMBER_JOINED, user_id=user.id,
                     **self._org_details(organization), role=role, invitation_id=invitation.id)
        return membership

    def _make_room_for_primary(self, organization: Organization, invitation: Invitation, newcomer: User) -> None:
        """Step the current primary down if an approved change of primary sent this
        invitation, and tell them the change now took effect; else PrimaryAlreadyExists."""
        current = self.primary_of(organization.id)
        if current is None:
            return
        request = self.session.scalar(select(ChangeRequest).where(
            ChangeRequest.invitation_id == invitation.id, ChangeRequest.state == RequestState.APPROVED,
        ))
        if request is None:
            raise PrimaryAlreadyExists
        becomes = FormerPrimaryBecomes(request.former_primary_becomes or FormerPrimaryBecomes.SECONDARY)
        self.step_down(current, becomes)
        self.tell(
            self.session.get(User, current.user_id), organization, DECIDED_TEMPLATE,
            request_id=request.public_id, request_kind=request.kind, state=request.state, is_requester=True,
            target_name=newcomer.name, former_primary_becomes=becomes, decision_reason=None,
            waits_for_registration=False,
        )

    def step_down(self, membership: Membership, becomes: FormerPrimaryBecomes) -> None:
        """The primary user becomes a secondary user, or leaves (their account stays)."""
        now = self.clock()
        if becomes == FormerPrimaryBecomes.LEAVE:
            membership.state = MembershipState.ENDED
            membership.ended_at = now
            self.end_access(membership.user_id)
            tag = EventTag.ORGANIZATION_MEMBER_ENDED
        else:
            membership.role = MemberRole.SECONDARY
            tag = EventTag.ORGANIZATION_MEMBER_ROLE_CHANGED
        membership.updated_at = now
        self.session.flush()  # before a new primary is written: the one-primary index
        record_event(self.session, self.clock, tag, user_id=membership.user_id,
                     organization=self._public_id(membership.organization_id), role=membership.role)
