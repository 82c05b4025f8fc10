"""The `organization` claim (issue 11, For relying parties): what a relying party granted
the `organization` scope learns about the person's membership. No Flask here.

Only an active membership of an active organization is released: a member who left or was
removed, and every member of a disabled organization, have no claim.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.orgs.models import Membership, MembershipState, Organization, OrganizationState

_CLAIM_COLUMNS = (Organization.public_id, Organization.kind, Organization.number, Organization.name_fr,
                  Organization.name_en, Membership.role)


def organization_claim(session: Session, user_id: int) -> dict[str, Any] | None:
    """`{"id", "kind", "number", "name": {"fr", "en"}, "role"}` for the person's active
    membership, or None. One indexed query (memberships.user_id); called only when the
    token's scope includes `organization`. An account belongs to at most one organization
    (organization accounts are dedicated), so the first membership is the one."""
    row = session.execute(
        select(*_CLAIM_COLUMNS)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user_id, Membership.state == MembershipState.ACTIVE,
               Organization.state == OrganizationState.ACTIVE)
        .order_by(Membership.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    return {"id": row.public_id, "kind": row.kind, "number": row.number,
            "name": {"fr": row.name_fr, "en": row.name_en}, "role": row.role}
