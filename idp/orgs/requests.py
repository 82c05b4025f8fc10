"""Change requests (issue 11): an organization's primary user asks to change the primary
user or to remove a secondary user, with a reason; an operator approves or rejects. No
Flask here; callers commit.

Decisions (docs/operators.md, Organizations):
- Deciding is one conditional UPDATE (pending, organization active -> decided): of two
  operators deciding at once exactly one has an effect, the other gets
  RequestAlreadyDecided, and a request of a disabled organization cannot be approved.
- Approving "change primary" to an existing secondary moves the role at once. To a new
  address, it sends that address a primary invitation, and the role moves when they
  register with it (OrganizationService.join_from_invitation): the organization is never
  left without a primary in between. Secondary users are untouched either way.
- Approving "remove secondary" ends the membership, that person's sessions and their
  grants with the `organization` scope (OrganizationService.end_access); the account stays.
- Each state change is an audit event and an email to the requester and the person
  concerned, in each one's language.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select, update

from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.orgs.errors import (
    AlreadyMember,
    InvalidOrganization,
    LastPrimaryCannotBeRemoved,
    MemberNotFound,
    OrganizationDisabled,
    RequestAlreadyDecided,
    RequestAlreadyPending,
    RequestNotFound,
)
from idp.orgs.memberships import Inviter, MembershipService
from idp.orgs.models import (
    ChangeRequest,
    FormerPrimaryBecomes,
    MemberRole,
    Membership,
    MembershipState,
    Organization,
    OrganizationState,
    RequestKind,
    RequestState,
)
from idp.orgs.services import (
    DECIDED_TEMPLATE,
    LOCALES,
    REFERENCE,
    SUBMITTED_TEMPLATE,
    address_of,
    new_public_id,
)
from idp.orgs.text import clean_reason


class ChangeRequestService(MembershipService):
    """Organizations' requests about their members, and operators' decisions on them."""

    def submit_request(
        self,
        organization_id: int,
        *,
        by_user_id: int,
        kind: str,
        reason: str,
        target_membership_id: int | None = None,
        new_email: str | None = None,
        new_locale: str | None = None,
        former_primary_becomes: str | None = None,
    ) -> ChangeRequest:
        """Submit a request as the organization's primary user.

        change_primary names an active secondary (target_membership_id) or a new address
        (new_email), and what the primary becomes (secondary or leave); remove_secondary
        names an active secondary. Raises NotPrimaryUser, OrganizationDisabled,
        MemberNotFound, LastPrimaryCannotBeRemoved, AlreadyMember, RequestAlreadyPending,
        InvalidOrganization(field) (a missing reason, markup or bidi characters in it).
        """
        requester = self.ensure_primary(organization_id, by_user_id)
        reason = clean_reason("reason", reason)
        values: dict[str, Any] = {}
        if kind == RequestKind.REMOVE_SECONDARY:
            target = self._active_member(organization_id, target_membership_id)
            if target.role == MemberRole.PRIMARY:
                raise LastPrimaryCannotBeRemoved
            values["target_membership_id"] = target.id
        elif kind == RequestKind.CHANGE_PRIMARY:
            if former_primary_becomes not in tuple(FormerPrimaryBecomes):
                raise InvalidOrganization("former_primary_becomes", "must be secondary or leave")
            values["former_primary_becomes"] = former_primary_becomes
            if (target_membership_id is None) == (new_email is None):
                raise InvalidOrganization("target", "give either a secondary user or a new address")
            if target_membership_id is not None:
                target = self._active_member(organization_id, target_membership_id)
                if target.id == requester.id:
                    raise InvalidOrganization("target", "already the primary user")
                values["target_membership_id"] = target.id
            else:
                address = address_of(new_email)
                if self._member_with_address(organization_id, address) is not None:
                    raise AlreadyMember
                values["new_email"] = address
                values["new_locale"] = new_locale if new_locale in LOCALES else self.settings.BABEL_DEFAULT_LOCALE
        else:
            raise InvalidOrganization("kind", "must be change_primary or remove_secondary")
        if self._same_pending(organization_id, kind, values):
            raise RequestAlreadyPending
        now = self.clock()
        request = ChangeRequest(
            public_id=new_public_id(), organization_id=organization_id, kind=kind,
            requested_by_user_id=by_user_id, reason=reason, state=RequestState.PENDING, created_at=now, **values,
        )
        self.session.add(request)
        self.session.flush()
        record_event(self.session, self.clock, EventTag.ORGANIZATION_REQUEST_SUBMITTED, user_id=by_user_id,
                     **self._request_details(request))
        self._tell_about(request, SUBMITTED_TEMPLATE)
        return request

    def _active_member(self, organization_id: int, membership_id: int | None) -> Membership:
        membership = self.session.get(Membership, membership_id) if isinstance(membership_id, int) else None
        if membership is None or membership.organization_id != organization_id or not membership.is_active:
            raise MemberNotFound
        return membership

    def _same_pending(self, organization_id: int, kind: str, values: dict[str, Any]) -> bool:
        query = select(ChangeRequest.id).where(
            ChangeRequest.organization_id == organization_id, ChangeRequest.kind == kind,
            ChangeRequest.state == RequestState.PENDING,
        )
        if kind == RequestKind.CHANGE_PRIMARY:  # one change of primary at a time
            return self.session.scalar(query.limit(1)) is not None
        return self.session.scalar(
            query.where(ChangeRequest.target_membership_id == values["target_membership_id"]).limit(1)
        ) is not None

    # Reading

    def get_request(self, reference: str | int) -> ChangeRequest:
        """The request with this id (digits) or public id. Raises RequestNotFound."""
        request = None
        if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit() and len(reference) < 12):
            request = self.session.get(ChangeRequest, int(reference))
        elif isinstance(reference, str) and REFERENCE.fullmatch(reference):
            request = self.session.scalar(select(ChangeRequest).where(ChangeRequest.public_id == reference))
        if request is None:
            raise RequestNotFound
        return request

    def list_requests(
        self, *, state: str | None = None, organization_id: int | None = None, limit: int = 200,
    ) -> list[ChangeRequest]:
        """Requests, oldest pending first."""
        query = select(ChangeRequest)
        if state is not None:
            if state not in tuple(RequestState):
                raise InvalidOrganization("state", "must be pending, approved or rejected")
            query = query.where(ChangeRequest.state == state)
        if organization_id is not None:
            query = query.where(ChangeRequest.organization_id == organization_id)
        return list(self.session.scalars(query.order_by(ChangeRequest.id).limit(limit)))

    def requests_of(self, organization_id: int, *, by_user_id: int, limit: int = 200) -> list[tuple[ChangeRequest, User | None]]:
        """The organization's requests, newest first, each with the account of the member it
        concerns (None for a change to a new address), for its primary user. Raises
        NotPrimaryUser, OrganizationDisabled."""
        self.ensure_primary(organization_id, by_user_id)
        rows = self.session.execute(
            select(ChangeRequest, User)
            .outerjoin(Membership, Membership.id == ChangeRequest.target_membership_id)
            .outerjoin(User, User.id == Membership.user_id)
            .where(ChangeRequest.organization_id == organization_id)
            .order_by(ChangeRequest.id.desc())
            .limit(limit)
        ).all()
        return [(request, user) for request, user in rows]

    # Deciding

    def approve(self, reference: str | int, *, by_operator: str, reason: str | None = None) -> ChangeRequest:
        """Approve and apply. Raises RequestNotFound, RequestAlreadyDecided,
        OrganizationDisabled, MemberNotFound or LastPrimaryCannotBeRemoved (the members
        changed since: the caller rolls back, and the request stays pending)."""
        request = self._decide(reference, RequestState.APPROVED, by_operator, reason)
        organization = self.session.get(Organization, request.organization_id)
        if request.kind == RequestKind.REMOVE_SECONDARY:
            target = self._active_member(organization.id, request.target_membership_id)
            if target.role == MemberRole.PRIMARY:
                raise LastPrimaryCannotBeRemoved
            target.state = MembershipState.ENDED
            target.ended_at = target.updated_at = self.clock()
            self.session.flush()
            self.end_access(target.user_id)
            record_event(self.session, self.clock, EventTag.ORGANIZATION_MEMBER_ENDED, user_id=target.user_id,
                         organization=organization.public_id, request=request.public_id)
        elif request.target_membership_id is not None:
            target = self._active_member(organization.id, request.target_membership_id)
            current = self.primary_of(organization.id)
            if current is not None and current.id != target.id:
                self.step_down(current, FormerPrimaryBecomes(request.former_primary_becomes))
            target.role = MemberRole.PRIMARY
            target.updated_at = self.clock()
            self.session.flush()
            record_event(self.session, self.clock, EventTag.ORGANIZATION_MEMBER_ROLE_CHANGED, user_id=target.user_id,
                         organization=organization.public_id, role=MemberRole.PRIMARY, request=request.public_id)
        else:
            invitation, _code = self._create_invitation(
                organization, email=request.new_email, role=MemberRole.PRIMARY,
                inviter=Inviter(operator=by_operator), locale=request.new_locale,
            )
            request.invitation_id = invitation.id
            self.session.flush()
        self._tell_about(request, DECIDED_TEMPLATE)
        return request

    def reject(self, reference: str | int, *, by_operator: str, reason: str | None = None) -> ChangeRequest:
        """Reject: nothing changes but the request. Raises RequestNotFound, RequestAlreadyDecided."""
        request = self._decide(reference, RequestState.REJECTED, by_operator, reason)
        self._tell_about(request, DECIDED_TEMPLATE)
        return request

    def _decide(self, reference: str | int, state: RequestState, by_operator: str, reason: str | None) -> ChangeRequest:
        request = self.get_request(reference)
        reason = clean_reason("reason", reason, required=False)
        conditions = [ChangeRequest.id == request.id, ChangeRequest.state == RequestState.PENDING]
        if state == RequestState.APPROVED:
            conditions.append(exists().where(
                Organization.id == ChangeRequest.organization_id, Organization.state == OrganizationState.ACTIVE
            ))
        decided = self.session.execute(
            update(ChangeRequest)
            .where(*conditions)
            .values(state=state, decided_by=by_operator, decided_at=self.clock(), decision_reason=reason)
            .execution_options(synchronize_session=False)
        ).rowcount
        request = self.session.scalar(
            select(ChangeRequest).where(ChangeRequest.id == request.id).execution_options(populate_existing=True)
        )
        if decided != 1:
            if request.state != RequestState.PENDING:
                raise RequestAlreadyDecided
            raise OrganizationDisabled
        tag = EventTag.ORGANIZATION_REQUEST_APPROVED if state == RequestState.APPROVED else (
            EventTag.ORGANIZATION_REQUEST_REJECTED
        )
        record_event(self.session, self.clock, tag, user_id=request.requested_by_user_id,
                     **self._request_details(request), by=by_operator)
        return request

    # Mail and audit

    def _tell_about(self, request: ChangeRequest, template: str) -> None:
        """The requester and the member concerned, each once, in their own language."""
        organization = self.session.get(Organization, request.organization_id)
        target = self.session.get(Membership, request.target_membership_id) if request.target_membership_id else None
        target_user = self.session.get(User, target.user_id) if target is not None else None
        requester = self.session.get(User, request.requested_by_user_id) if request.requested_by_user_id else None
        common = {
            "request_id": request.public_id,
            "request_kind": request.kind,
            "state": request.state,
            "target_name": target_user.name if target_user is not None else request.new_email,
            "former_primary_becomes": request.former_primary_becomes,
            "decision_reason": request.decision_reason,
            "waits_for_registration": request.invitation_id is not None,
        }
        self.tell(requester, organization, template, is_requester=True, **common)
        if target_user is not None and (requester is None or target_user.id != requester.id):
            self.tell(target_user, organization, template, is_requester=False, **common)

    def _request_details(self, request: ChangeRequest) -> dict[str, Any]:
        return {
            "organization": self._public_id(request.organization_id),
            "request": request.public_id,
            "request_kind": request.kind,
            "target_membership_id": request.target_membership_id,
        }
