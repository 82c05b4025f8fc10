"""What UserInfo and revocation read and write, as statements built once at import and run
on the session's connection (Core): no statement built, no cache key computed and no ORM
object loaded per request (docs/performance.md, Hot paths). The token they start from is
read by TokenService.find_active_* (token_queries.py), with its person.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from idp.accounts.models import User
from idp.oidc.models import Token


@dataclass(frozen=True, slots=True)
class ClaimsRecord:
    """The columns of a person that idp.oidc.claims.user_claims reads."""

    given_name: str
    family_name: str
    locale: str | None
    updated_at: datetime | None
    email: str | None
    email_verified: bool
    phone_number: str | None
    phone_number_verified: bool
    address: dict[str, Any] | None

    # The model's own rule: "given family", stripped.
    name = User.name


_users = User.__table__
_tokens = Token.__table__

PERSON_CLAIMS = select(*(_users.c[field.name] for field in fields(ClaimsRecord))).where(_users.c.id == bindparam("id"))

# Revocation (RFC 7009): the token by either hash, then its grant (a refresh token) or itself.
TOKEN_BY_REFRESH = (select(_tokens.c.grant_id, _tokens.c.client_id, _tokens.c.revoked_at)
                    .where(_tokens.c.refresh_token_hash == bindparam("hash")))
TOKEN_BY_ACCESS = (select(_tokens.c.grant_id, _tokens.c.client_id, _tokens.c.revoked_at)
                   .where(_tokens.c.access_token_hash == bindparam("hash")))
REVOKE_GRANT = (update(_tokens).where(_tokens.c.grant_id == bindparam("grant"), _tokens.c.revoked_at.is_(None))
                .values(revoked_at=bindparam("now")))
REVOKE_ACCESS = (update(_tokens).where(_tokens.c.access_token_hash == bindparam("hash"), _tokens.c.revoked_at.is_(None))
                 .values(revoked_at=bindparam("now")))


def person_claims(connection, user_id: int) -> ClaimsRecord | None:
    row = connection.execute(PERSON_CLAIMS, {"id": user_id}).one_or_none()
    return ClaimsRecord(*row) if row is not None else None
