"""The institution's users as its primary user manages them from the portal (seed 001):
« Créer un compte pour un utilisateur d'un EED », the members and open invitations, and the
requests to change the primary user or remove a secondary user. Everything goes through
Passerelle's organizations API (organizations_api.py); the portal keeps none of it. No Flask."""

from __future__ import annotations

from dataclasses import dataclass

from clients.institution_portal.errors import NotASecondaryUser, NotPrimaryUser
from clients.institution_portal.organizations_api import (
    ChangeRequest,
    Member,
    MemberInvitation,
    OrganizationsApi,
)

PRIMARY = "primary"
SECONDARY = "secondary"
REMOVE_SECONDARY = "remove_secondary"
CHANGE_PRIMARY = "change_primary"
FORMER_PRIMARY_CHOICES = ("secondary", "leave")


@dataclass(frozen=True)
class UsersOverview:
    members: list[Member]
    invitations: list[MemberInvitation]
    requests: list[ChangeRequest]

    @property
    def secondaries(self) -> list[Member]:
        return [member for member in self.members if member.role == SECONDARY and member.state == "active"]

    def name_of(self, sub: str | None) -> str | None:
        """A member's name (or address) for a request that names them by sub."""
        for member in self.members:
            if member.sub == sub:
                return member.full_name or member.email
        return None

    def pending_removal_of(self, sub: str) -> bool:
        return any(item.kind == REMOVE_SECONDARY and item.state == "pending" and item.target_sub == sub
                   for item in self.requests)


class UsersService:
    """The primary user's actions, on behalf of `acting_sub` (their sub for the portal)."""

    def __init__(self, api: OrganizationsApi):
        self.api = api

    def overview(self, organization_id: str, acting_sub: str) -> UsersOverview:
        """Members, open invitations and change requests (newest first), for the active
        primary user only: the role in a portal session dates from its sign-in, so it is
        checked against Passerelle's member list. Raises NotPrimaryUser and the API's errors."""
        members = self.api.list_members(organization_id)
        if not any(member.sub == acting_sub and member.role == PRIMARY and member.state == "active"
                   for member in members):
            raise NotPrimaryUser(acting_sub)
        requests = sorted(self.api.list_requests(organization_id), key=lambda item: item.created_at or 0, reverse=True)
        return UsersOverview(members, self.api.list_invitations(organization_id), requests)

    def invite(self, organization_id: str, *, acting_sub: str, email: str, locale: str) -> MemberInvitation:
        """« Nouvelle requête »: Passerelle emails the address an invitation code."""
        return self.api.invite(organization_id, acting_sub=acting_sub, email=email.strip(), locale=locale)

    def secondary(self, organization_id: str, sub: str) -> Member:
        """The active secondary user with this sub. Raises NotASecondaryUser."""
        for member in self.api.list_members(organization_id):
            if member.sub == sub and member.role == SECONDARY and member.state == "active":
                return member
        raise NotASecondaryUser(sub)

    def request_removal(self, organization_id: str, *, acting_sub: str, target_sub: str, reason: str) -> ChangeRequest:
        """Ask Passerelle's operators to remove a secondary user. Raises NotASecondaryUser."""
        self.secondary(organization_id, target_sub)
        return self.api.request_change(organization_id, acting_sub=acting_sub, kind=REMOVE_SECONDARY,
                                       target_sub=target_sub, reason=reason.strip())

    def request_primary_change(self, organization_id: str, *, acting_sub: str, reason: str, becomes: str,
                               target_sub: str | None = None, new_email: str | None = None,
                               locale: str | None = None) -> ChangeRequest:
        """Ask to hand the primary role to a secondary user (target_sub) or to a new address
        (new_email, invited in locale once approved); the current primary user then becomes
        a secondary user or leaves. Existing secondary users are not affected (seed 001)."""
        if target_sub is not None:
            self.secondary(organization_id, target_sub)
            new_email = locale = None
        return self.api.request_change(organization_id, acting_sub=acting_sub, kind=CHANGE_PRIMARY,
                                       reason=reason.strip(), target_sub=target_sub,
                                       new_email=new_email.strip() if new_email else None, locale=locale,
                                       former_primary_becomes=becomes)
