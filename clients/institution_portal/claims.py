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
from clients.portal_kit.id_token import has_two_factor, reaches, subject

__all__ = ["ROLES", "Identity", "check_identity", "reaches"]

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
    sub = subject(claims)
    if sub is None:
        raise InvalidIdToken("no sub")
    if not has_two_factor(claims, required_acr, acr_order):
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

