"""Console roles (issue 16): who may open /admin and what they may do there.

`operator` does everything the console offers; `service_desk` helps people who cannot sign
in and nothing else (seed 002: the service desk helps "only with problems about the
sign-in, two-factor included" and has no access to the services' data): people found by
exact address only, no organizations, no relying parties, no keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.console.errors import NotAllowed, UnknownRole
from idp.console.models import AccountRole

OPERATOR = "operator"
SERVICE_DESK = "service_desk"
ROLES = (OPERATOR, SERVICE_DESK)


@dataclass(frozen=True)
class Agent:
    """Who is using the console: an account and its roles (never empty for an agent)."""

    user_id: int
    roles: frozenset[str]

    @property
    def is_operator(self) -> bool:
        return OPERATOR in self.roles

    def require_operator(self) -> None:
        """Raises NotAllowed unless the agent is an operator."""
        if not self.is_operator:
            raise NotAllowed


class RoleService:
    def __init__(self, session: Session, clock: Clock):
        self.session = session
        self.clock = clock

    def roles_of(self, user_id: int) -> frozenset[str]:
        return frozenset(self.session.scalars(select(AccountRole.role).where(AccountRole.user_id == user_id)))

    def agent(self, user: User | None) -> Agent | None:
        """The agent this account is, or None: no role, or an account that may not sign in."""
        if user is None or not user.is_active:
            return None
        roles = self.roles_of(user.id)
        return Agent(user.id, roles) if roles else None

    def grant(self, user: User, role: str) -> bool:
        """Give the account a role (`idp users grant`); False if it already held it.
        Raises UnknownRole."""
        if role not in ROLES:
            raise UnknownRole
        if role in self.roles_of(user.id):
            return False
        self.session.add(AccountRole(user_id=user.id, role=role, granted_at=self.clock()))
        record_event(self.session, self.clock, EventTag.CONSOLE_ROLE_GRANTED, user_id=user.id, role=role, by="cli")
        self.session.flush()
        return True

    def revoke(self, user: User, role: str) -> bool:
        """Take a role back (`idp users revoke`); False if the account did not hold it.
        Raises UnknownRole. A console session open meanwhile ends at its next page: every
        console request reads the roles again."""
        if role not in ROLES:
            raise UnknownRole
        result = self.session.execute(
            delete(AccountRole).where(AccountRole.user_id == user.id, AccountRole.role == role)
        )
        if not result.rowcount:
            return False
        record_event(self.session, self.clock, EventTag.CONSOLE_ROLE_REVOKED, user_id=user.id, role=role, by="cli")
        self.session.flush()
        return True
