"""What the portal requires of a verified ID token: two-factor (acr and amr) and an active
membership of a designated learning institution (the organization claim, docs/oidc.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clients.institution_portal.errors import (
    AssuranceTooLow,
    InvalidIdToken,
    NoMembership,
    NotAnInstitution,
)

ROLES = ("primary", "secondary")


@dataclass(frozen=True)
class Identity:
    """Who signed in, as far as the portal needs to know."""

    sub: str
    acr: str
    organization_id: str
    organization_number: str
    organization_name_fr: str
    organization_name_en: str
    role: str


def check_identity(claims: Mapping[str, Any], required_acr: str, acr_order: Sequence[str]) -> Identity:
    """The person the verified ID token names, if the portal lets them in.

    Two-factor: acr must be the required level or one Passerelle lists after it in
    acr_values_supported (lowest to highest, docs/oidc.md), and amr must say "mfa".
    Raises AssuranceTooLow, NoMembership, NotAnInstitution, InvalidIdToken.
    """
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidIdToken("no sub")
    if not reaches(claims.get("acr"), required_acr, acr_order) or "mfa" not in (claims.get("amr") or ()):
        raise AssuranceTooLow(claims.get("acr"))
    organization = claims.get("organization")
    if not isinstance(organization, Mapping):
        raise NoMembership(sub)
    if organization.get("kind") != "dli":
        raise NotAnInstitution(organization.get("kind"))
    names = organization.get("name") or {}
    if organization.get("role") not in ROLES or not organization.get("id") or not isinstance(names, Mapping):
        raise InvalidIdToken("malformed organization claim")
    return Identity(
        sub=sub,
        acr=claims["acr"],
        organization_id=str(organization["id"]),
        organization_number=str(organization.get("number") or ""),
        organization_name_fr=str(names.get("fr") or names.get("en") or ""),
        organization_name_en=str(names.get("en") or names.get("fr") or ""),
        role=organization["role"],
    )


def reaches(acr: Any, required: str, order: Sequence[str]) -> bool:
    """Whether the acr is the required level or above it in Passerelle's order."""
    if acr == required:
        return True
    order = list(order)
    return isinstance(acr, str) and required in order and acr in order and order.index(acr) > order.index(required)
