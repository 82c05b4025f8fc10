"""Which relying parties may manage which organizations through the organizations API
(issue 11, For relying parties). An operator attaches an organization to a client
(`idp orgs attach ORG --client CLIENT_ID`); a client's API token reaches the organizations
attached to it and no other, and to it every other organization does not exist. No Flask
here; callers commit.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.oidc.errors import ClientNotFound
from idp.oidc.models import Client
from idp.orgs.errors import OrganizationNotFound
from idp.orgs.models import Organization, OrganizationClient
from idp.orgs.services import REFERENCE


class AttachmentService:
    """Attach organizations to relying parties, and find a client's organization."""

    def __init__(self, session: Session, clock: Clock):
        self.session = session
        self.clock = clock

    def attach(self, organization: Organization, client_id: str, *, by_operator: str) -> bool:
        """Let this client's organizations API reach the organization. True when this made
        the attachment, False when it was there already. Raises ClientNotFound."""
        if self.session.scalar(select(Client.id).where(Client.client_id == client_id)) is None:
            raise ClientNotFound(client_id)
        if self._find(organization.id, client_id) is not None:
            return False
        self.session.add(OrganizationClient(organization_id=organization.id, client_id=client_id,
                                            attached_by=by_operator, created_at=self.clock()))
        self.session.flush()
        record_event(self.session, self.clock, EventTag.ORGANIZATION_CLIENT_ATTACHED, organization=organization.public_id,
                     client_id=client_id, by=by_operator)
        return True

    def detach(self, organization: Organization, client_id: str, *, by_operator: str) -> bool:
        """The client's API no longer reaches the organization; True when it did."""
        removed = self.session.execute(
            delete(OrganizationClient)
            .where(OrganizationClient.organization_id == organization.id, OrganizationClient.client_id == client_id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if removed:
            record_event(self.session, self.clock, EventTag.ORGANIZATION_CLIENT_DETACHED,
                         organization=organization.public_id, client_id=client_id, by=by_operator)
        return bool(removed)

    def clients_of(self, organization_id: int) -> list[str]:
        """The client_ids attached to the organization, in the order they were attached."""
        return list(self.session.scalars(
            select(OrganizationClient.client_id).where(OrganizationClient.organization_id == organization_id)
            .order_by(OrganizationClient.id)
        ))

    def organizations_of(self, client_id: str) -> list[Organization]:
        """The organizations attached to the client, by kind and number."""
        return list(self.session.scalars(
            select(Organization)
            .join(OrganizationClient, OrganizationClient.organization_id == Organization.id)
            .where(OrganizationClient.client_id == client_id)
            .order_by(Organization.kind, Organization.number)
        ))

    def organization_for_client(self, public_id: object, client_id: str) -> Organization:
        """The organization with this public id, if it is attached to the client. Raises
        OrganizationNotFound otherwise, the same for one that does not exist and one that is
        another client's: a client cannot learn that an organization exists."""
        if not isinstance(public_id, str) or not REFERENCE.fullmatch(public_id):
            raise OrganizationNotFound
        found = self.session.scalar(
            select(Organization)
            .join(OrganizationClient, OrganizationClient.organization_id == Organization.id)
            .where(Organization.public_id == public_id, OrganizationClient.client_id == client_id)
        )
        if found is None:
            raise OrganizationNotFound
        return found

    def _find(self, organization_id: int, client_id: str) -> OrganizationClient | None:
        return self.session.scalar(select(OrganizationClient).where(
            OrganizationClient.organization_id == organization_id, OrganizationClient.client_id == client_id))
