"""Who signed in, from a verified ID token: a learner, or staff of an issuing organization.

One sign-in serves both (docs/document-portal.md, Signing in): the portal always asks for
`openid profile email organization`. A person whose organization claim names a `kind=issuer`
organization is staff of that school and must have signed in with two-factor (acr at least
DOCUMENT_PORTAL_REQUIRED_ACR, "mfa" in amr); anyone else is a learner, at any level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clients.document_portal.auth.models import LEARNER, STAFF
from clients.document_portal.errors import InvalidIdToken, StaffNeedsTwoFactor
from clients.portal_kit.id_token import has_two_factor, subject

ISSUER_KIND = "issuer"


@dataclass(frozen=True)
class Identity:
    sub: str
    role: str
    acr: str
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    organization_id: str | None = None
    organization_number: str | None = None
    organization_name_fr: str | None = None
    organization_name_en: str | None = None


def _text(claims: Mapping[str, Any], name: str, limit: int) -> str:
    value = claims.get(name)
    return value[:limit] if isinstance(value, str) else ""


def check_identity(claims: Mapping[str, Any], required_acr: str, acr_order: Sequence[str]) -> Identity:
    """The person the verified ID token names. Raises InvalidIdToken (no sub, a malformed
    organization claim) or StaffNeedsTwoFactor (an issuer's member below two-factor)."""
    sub = subject(claims)
    if sub is None:
        raise InvalidIdToken("no sub")
    person = {"sub": sub, "acr": str(claims.get("acr") or ""), "given_name": _text(claims, "given_name", 100),
              "family_name": _text(claims, "family_name", 100), "email": _text(claims, "email", 254)}
    organization = claims.get("organization")
    if not isinstance(organization, Mapping) or organization.get("kind") != ISSUER_KIND:
        return Identity(role=LEARNER, **person)
    names = organization.get("name")
    if not organization.get("id") or not isinstance(names, Mapping):
        raise InvalidIdToken("malformed organization claim")
    if not has_two_factor(claims, required_acr, acr_order):
        raise StaffNeedsTwoFactor(claims.get("acr"))
    return Identity(
        role=STAFF,
        organization_id=str(organization["id"])[:64],
        organization_number=str(organization.get("number") or "")[:64],
        organization_name_fr=str(names.get("fr") or names.get("en") or "")[:300],
        organization_name_en=str(names.get("en") or names.get("fr") or "")[:300],
        **person,
    )
