"""Organizations in the console (issue 16), for operators only: list, show with members,
and the change-requests queue decided through the same service as `idp orgs requests`
(idp.orgs.requests.ChangeRequestService), with the reason the operator types. What the
pages get are plain rows (no model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.console.actions import checked_reason
from idp.console.errors import NothingToDo, OwnAccount
from idp.console.roles import Agent
from idp.orgs.models import ChangeRequest, Membership, Organization, RequestState
from idp.orgs.requests import ChangeRequestService

APPROVE, REJECT = "approve", "reject"
DISABLE, ENABLE = "disable", "enable"


@dataclass(frozen=True)
class OrganizationRow:
    public_id: str
    name_fr: str
    name_en: str
    number: str
    kind: str
    state: str
    pending_requests: int = 0


@dataclass(frozen=True)
class MemberRow:
    user_id: int
    name: str
    email: str | None
    role: str


@dataclass(frozen=True)
class RequestRow:
    public_id: str
    organization: OrganizationRow
    kind: str
    state: str
    requested_by: str | None
    concerned: str | None  # the member's address, or the new primary's
    reason: str
    created_at: datetime
    decided_by: str | None
    decision_reason: str | None


@dataclass(frozen=True)
class OrganizationPage:
    organization: OrganizationRow
    members: tuple[MemberRow, ...]
    requests: tuple[RequestRow, ...]


def _row(organization: Organization, pending: int = 0) -> OrganizationRow:
    return OrganizationRow(organization.public_id, organization.name_fr, organization.name_en, organization.number,
                           organization.kind, organization.state, pending)


class ConsoleOrganizations:
    def __init__(self, service: ChangeRequestService):
        self.service = service
        self.session = service.session
        self.clock = service.clock

    def list(self, agent: Agent) -> list[OrganizationRow]:
        """Every organization with its pending requests, by name. Raises NotAllowed."""
        agent.require_operator()
        pending = dict(self.session.execute(
            select(ChangeRequest.organization_id, func.count(ChangeRequest.id))
            .where(ChangeRequest.state == RequestState.PENDING).group_by(ChangeRequest.organization_id)).all())
        return [_row(organization, pending.get(organization.id, 0))
                for organization in sorted(self.service.list(), key=lambda item: item.name_fr.lower())]

    def show(self, agent: Agent, reference: str) -> OrganizationPage:
        """One organization, its members and its requests. Raises NotAllowed, OrganizationNotFound."""
        agent.require_operator()
        organization = self.service.get(reference)
        members = tuple(MemberRow(user.id, user.name, user.email, membership.role)
                        for membership, user in self.service.members(organization.id))
        requests = tuple(self._request_row(request) for request in reversed(
            self.service.list_requests(organization_id=organization.id)))
        return OrganizationPage(_row(organization), members, requests)

    def pending(self, agent: Agent) -> list[RequestRow]:
        """The queue: pending requests, oldest first. Raises NotAllowed."""
        agent.require_operator()
        return [self._request_row(request) for request in self.service.list_requests(state=RequestState.PENDING)]

    def request(self, agent: Agent, reference: str) -> RequestRow:
        agent.require_operator()
        return self._request_row(self.service.get_request(reference))

    def decide(self, agent: Agent, agent_email: str | None, reference: str, decision: str, reason: str | None) -> RequestRow:
        """Approve or reject with a reason (required here, unlike the CLI), sent to the
        requester by the service. Raises NotAllowed, OwnAccount (the agent asked for it or it
        concerns them: another operator decides), ReasonRequired, and what
        ChangeRequestService.approve / reject raise (the caller rolls back then)."""
        agent.require_operator()
        if self._concerns(self.service.get_request(reference), agent, agent_email):
            raise OwnAccount
        reason = checked_reason(reason)
        by_operator = f"{agent_email or agent.user_id} (console)"
        method = self.service.approve if decision == APPROVE else self.service.reject
        request = method(reference, by_operator=by_operator, reason=reason)
        record_event(self.session, self.clock, EventTag.CONSOLE_REQUEST_DECIDED, user_id=request.requested_by_user_id,
                     agent_id=agent.user_id, request=request.public_id, decision=decision, reason=reason)
        return self._request_row(request)

    def change_state(self, agent: Agent, agent_email: str | None, reference: str, action: str, reason: str | None) -> None:
        """Disable (every member's access ends, pending invitations are revoked, members are
        told) or enable an organization, as `idp orgs disable|enable` does, with a reason.
        Raises NotAllowed, ReasonRequired, OrganizationNotFound, NothingToDo (already so)."""
        agent.require_operator()
        reason = checked_reason(reason)
        organization = self.service.get(reference)
        before = organization.state
        method = self.service.disable if action == DISABLE else self.service.enable
        organization = method(organization.id, by_operator=f"{agent_email or agent.user_id} (console)")
        if organization.state == before:
            raise NothingToDo
        record_event(self.session, self.clock, EventTag.CONSOLE_ORGANIZATION_CHANGED, agent_id=agent.user_id,
                     organization=organization.public_id, action=action, reason=reason)

    def _concerns(self, request: ChangeRequest, agent: Agent, agent_email: str | None) -> bool:
        """The agent asked for this request, or is the member it removes or the new primary."""
        target = self.session.get(Membership, request.target_membership_id) if request.target_membership_id else None
        return (request.requested_by_user_id == agent.user_id
                or (target is not None and target.user_id == agent.user_id)
                or (agent_email is not None and request.new_email is not None
                    and request.new_email.lower() == agent_email.lower()))

    def _request_row(self, request: ChangeRequest) -> RequestRow:
        organization = self.session.get(Organization, request.organization_id)
        requester = self.session.get(User, request.requested_by_user_id) if request.requested_by_user_id else None
        target = self.session.get(Membership, request.target_membership_id) if request.target_membership_id else None
        target_user = self.session.get(User, target.user_id) if target is not None else None
        return RequestRow(
            public_id=request.public_id, organization=_row(organization), kind=request.kind, state=request.state,
            requested_by=requester.email if requester else None,
            concerned=target_user.email if target_user is not None else request.new_email,
            reason=request.reason, created_at=request.created_at,
            decided_by=request.decided_by, decision_reason=request.decision_reason,
        )
