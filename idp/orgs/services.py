"""Organizations and their members: create, find, disable, list members, end a member's
access. No Flask here (design.md, Where code goes): the CLI, the pages and the API call this
and commit. Invitations and joining are idp/orgs/memberships.py, change requests
idp/orgs/requests.py.

Decisions (docs/operators.md, Organizations):
- Organization accounts are dedicated (issue 11): a membership is created only when a
  registration completes through that organization's invitation. An invitation to an
  address that already has an account is still created and sent, so the inviter cannot
  learn whether the address is registered; registration then tells that address, and only
  it, that the institution needs another one (RegistrationService._send_account_exists).
- One live invitation per address and organization: a new one revokes the earlier pending
  one. Inviting a primary user revokes the other pending primary invitations, and is
  refused while the organization has an active primary (a change request moves the role).
- Disabling an organization revokes its pending invitations; its members stay, inactive
  with it. Enabling does not bring the invitations back.
- A membership that ends (removed, or a former primary who leaves) and every membership of
  an organization being disabled end that person's sessions and their grants that carry
  the `organization` scope (end_access); a change of role ends nothing: the claim tells
  the role of the moment.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.accounts.errors import InvalidEmail
from idp.accounts.models import User
from idp.accounts.services import canonical_email
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.invitations.models import Invitation, InvitationState
from idp.invitations.services import InvitationService
from idp.mail.services import MailService
from idp.oidc.revocation import end_organization_access
from idp.orgs.errors import (
    DuplicateOrganizationNumber,
    InvalidOrganization,
    NotPrimaryUser,
    OrganizationDisabled,
    OrganizationNotFound,
)
from idp.orgs.models import (
    MemberRole,
    Membership,
    MembershipState,
    Organization,
    OrganizationState,
)
from idp.orgs.text import clean_kind, clean_name, clean_number, clean_text
from idp.security.secrets import KeyedHasher
from idp.signin.sessions import SessionService

LOCALES = ("fr", "en")
MAX_EMAIL_LENGTH = 320
SUBMITTED_TEMPLATE = "organization-request-submitted"
# A decision, and (waits_for_registration False) a change of primary taking effect.
DECIDED_TEMPLATE = "organization-request-decided"
_PUBLIC_ID_LENGTH = 12  # token_urlsafe(12): 16 characters
# A public id (token_urlsafe) or a number: what get() looks up.
REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,32}")


class OrganizationService:
    """Organizations, memberships and organization invitations."""

    def __init__(self, session: Session, settings: Settings, clock: Clock, hasher: KeyedHasher, mail: MailService):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        self.mail = mail
        self.invitations = InvitationService(session, settings, clock, hasher)

    # Organizations

    def create(self, *, kind: str, number: str, name_fr: str, name_en: str, by_operator: str) -> Organization:
        """A new active organization. Raises InvalidOrganization(field),
        DuplicateOrganizationNumber (another of its kind has the number)."""
        kind = clean_kind(kind)
        number = clean_number(kind, number)
        names = {"name_fr": clean_name("name_fr", name_fr), "name_en": clean_name("name_en", name_en)}
        if self._find_by_number(kind, number) is not None:
            raise DuplicateOrganizationNumber
        now = self.clock()
        organization = Organization(
            public_id=new_public_id(), kind=kind, number=number,
            state=OrganizationState.ACTIVE, created_at=now, updated_at=now, **names,
        )
        self.session.add(organization)
        try:
            self.session.flush()  # a racing create of the same number loses here
        except IntegrityError:
            # No savepoint: under pysqlite a released first savepoint commits; the caller
            # rolls the whole transaction back on any error.
            raise DuplicateOrganizationNumber from None
        record_event(self.session, self.clock, EventTag.ORGANIZATION_CREATED, **self._org_details(organization),
                     by=by_operator)
        return organization

    def get(self, reference: str) -> Organization:
        """The organization with this public id, or this number (any kind, if only one kind
        has it). Raises OrganizationNotFound, InvalidOrganization when the number is ambiguous."""
        # Only the shapes we issue reach the database (PostgreSQL refuses NUL bytes).
        if not isinstance(reference, str) or not REFERENCE.fullmatch(reference.strip()):
            raise OrganizationNotFound
        reference = reference.strip()
        found = self.session.scalar(select(Organization).where(Organization.public_id == reference))
        if found is not None:
            return found
        matches = list(self.session.scalars(
            select(Organization).where(Organization.number == reference.upper()).limit(2)
        ))
        if len(matches) > 1:
            raise InvalidOrganization("organization", "several kinds share this number: give the id")
        if not matches:
            raise OrganizationNotFound
        return matches[0]

    def get_by_number(self, kind: str, number: str) -> Organization:
        """Raises OrganizationNotFound, InvalidOrganization for a malformed kind or number."""
        kind = clean_kind(kind)
        found = self._find_by_number(kind, clean_number(kind, number))
        if found is None:
            raise OrganizationNotFound
        return found

    def _find_by_number(self, kind: str, number: str) -> Organization | None:
        return self.session.scalar(select(Organization).where(Organization.kind == kind, Organization.number == number))

    def list(self, *, kind: str | None = None, state: str | None = None, limit: int = 500) -> list[Organization]:
        """Organizations by kind and number."""
        query = select(Organization)
        if kind is not None:
            query = query.where(Organization.kind == clean_kind(kind))
        if state is not None:
            if state not in tuple(OrganizationState):
                raise InvalidOrganization("state", "must be active or disabled")
            query = query.where(Organization.state == state)
        return list(self.session.scalars(query.order_by(Organization.kind, Organization.number).limit(limit)))

    def disable(self, organization_id: int, *, by_operator: str) -> Organization:
        """Disable: pending invitations are revoked, members are told; disabling a disabled
        organization changes nothing. Raises OrganizationNotFound."""
        return self._change_state(organization_id, OrganizationState.DISABLED, by_operator)

    def enable(self, organization_id: int, *, by_operator: str) -> Organization:
        """Enable a disabled organization; enabling an active one changes nothing."""
        return self._change_state(organization_id, OrganizationState.ACTIVE, by_operator)

    def _change_state(self, organization_id: int, state: OrganizationState, by_operator: str) -> Organization:
        """One conditional UPDATE, so only an actual change records, revokes and emails."""
        now = self.clock()
        disabling = state == OrganizationState.DISABLED
        changed = self.session.execute(
            update(Organization)
            .where(Organization.id == self._reload(organization_id).id, Organization.state != state)
            .values(state=state, disabled_at=now if disabling else None, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        organization = self._reload(organization_id)
        if not changed:
            return organization
        if disabling:
            self.session.execute(
                update(Invitation)
                .where(Invitation.organization_id == organization.id,
                       *InvitationService._state_clause(InvitationState.PENDING, now))
                .values(revoked_at=now)
                .execution_options(synchronize_session=False)
            )
        if disabling:
            for membership, _user in self.members(organization.id):
                self.end_access(membership.user_id)
        tag = EventTag.ORGANIZATION_DISABLED if disabling else EventTag.ORGANIZATION_ENABLED
        record_event(self.session, self.clock, tag, **self._org_details(organization), by=by_operator)
        self._tell_members(organization, "organization-status-changed", disabled=disabling)
        return organization

    def _reload(self, organization_id: int) -> Organization:
        organization = self.session.scalar(
            select(Organization).where(Organization.id == organization_id).execution_options(populate_existing=True)
        )
        if organization is None:
            raise OrganizationNotFound
        return organization

    # Members

    def members(self, organization_id: int, *, include_ended: bool = False) -> list[tuple[Membership, User]]:
        """The members and their accounts: the primary first, then by address."""
        query = select(Membership, User).join(User, User.id == Membership.user_id).where(
            Membership.organization_id == organization_id
        )
        if not include_ended:
            query = query.where(Membership.state == MembershipState.ACTIVE)
        rows = self.session.execute(query.order_by(Membership.state, Membership.role, User.email)).all()
        return [(membership, user) for membership, user in rows]

    def pending_invitations(self, organization_id: int) -> list[Invitation]:
        """The organization's invitations nobody registered with yet, newest first."""
        return list(self.session.scalars(
            select(Invitation)
            .where(Invitation.organization_id == organization_id,
                   *InvitationService._state_clause(InvitationState.PENDING, self.clock()))
            .order_by(Invitation.id.desc())
        ))

    def active_membership(self, organization_id: int, user_id: int) -> Membership | None:
        return self.session.scalar(select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id,
            Membership.state == MembershipState.ACTIVE,
        ))

    def primary_of(self, organization_id: int) -> Membership | None:
        return self.session.scalar(select(Membership).where(
            Membership.organization_id == organization_id, Membership.role == MemberRole.PRIMARY,
            Membership.state == MembershipState.ACTIVE,
        ))

    def memberships_of(self, user_id: int) -> list[tuple[Membership, Organization]]:
        """A person's active memberships with their organizations."""
        rows = self.session.execute(
            select(Membership, Organization).join(Organization, Organization.id == Membership.organization_id)
            .where(Membership.user_id == user_id, Membership.state == MembershipState.ACTIVE)
            .order_by(Membership.id)
        ).all()
        return [(membership, organization) for membership, organization in rows]

    def ensure_primary(self, organization_id: int, user_id: int) -> Membership:
        """The user's membership if they are the active primary of this active organization.
        Raises NotPrimaryUser (a secondary, a stranger, a member of another organization),
        OrganizationDisabled."""
        organization = self._reload(organization_id)
        membership = self.active_membership(organization_id, user_id)
        if membership is None or membership.role != MemberRole.PRIMARY:
            raise NotPrimaryUser
        if not organization.is_active:
            raise OrganizationDisabled
        return membership

    def end_access(self, user_id: int) -> None:
        """The person no longer represents the organization (membership ended, organization
        disabled): their Passerelle sessions end, and every grant whose scope includes
        `organization` (idp.oidc.revocation.end_organization_access). The account stays."""
        end_organization_access(SessionService(self.session, self.settings, self.clock, self.hasher), user_id)

    # Mail and audit

    def _tell_members(self, organization: Organization, template: str, **extra: Any) -> None:
        for _membership, user in self.members(organization.id):
            self.tell(user, organization, template, **extra)

    def tell(self, user: User | None, organization: Organization, template: str, **extra: Any) -> None:
        """Queue one organization email to one account, in its language (capped like any)."""
        if user is None or not user.email:
            return
        self.mail.enqueue(
            to=user.email, template=template, locale=self._locale(user.locale),
            context={"given_name": user.given_name, **names_of(organization), **extra}, user_id=user.id,
        )

    def _locale(self, locale: str | None) -> str:
        return locale if locale in LOCALES else self.settings.BABEL_DEFAULT_LOCALE

    def _public_id(self, organization_id: int) -> str | None:
        return self.session.scalar(select(Organization.public_id).where(Organization.id == organization_id))

    @staticmethod
    def _org_details(organization: Organization) -> dict[str, str]:
        return {"organization": organization.public_id, "kind": organization.kind, "number": organization.number}


def new_public_id() -> str:
    """A random public id (token_urlsafe: ids cannot be counted) that never starts with "-",
    which `idp orgs show ID` would read as an option."""
    while (public_id := secrets.token_urlsafe(_PUBLIC_ID_LENGTH)).startswith("-"):
        pass
    return public_id


def names_of(organization: Organization) -> dict[str, str]:
    """What every organization email reads to name the organization in its language."""
    return {"organization_name_fr": organization.name_fr, "organization_name_en": organization.name_en}


def address_of(email: object) -> str:
    """The canonical address. Raises InvalidOrganization("email"): markup, bidirectional or
    invisible characters are refused by name (clean_text) before the address's own shape,
    which canonical_email alone would let through ("<b>x</b>@example.ca")."""
    cleaned = clean_text("email", email, MAX_EMAIL_LENGTH, required=True)
    try:
        return canonical_email(cleaned)
    except InvalidEmail:
        raise InvalidOrganization("email", "not an email address", "email") from None
