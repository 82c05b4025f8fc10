"""Generic checks of a verified ID token (Authlib has already checked its signature, iss,
aud, azp, exp, iat and nonce): the subject, and the assurance level (docs/oidc.md,
Requiring two-factor). Each portal turns a failed check into its own refusal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def subject(claims: Mapping[str, Any]) -> str | None:
    """The token's sub, if it is a non-empty string."""
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None


def reaches(acr: Any, required: str, order: Sequence[str]) -> bool:
    """Whether the acr is the required level or above it in Passerelle's order
    (acr_values_supported, lowest to highest); with no known order, only the exact level."""
    if acr == required:
        return True
    order = list(order)
    return isinstance(acr, str) and required in order and acr in order and order.index(acr) > order.index(required)


def has_two_factor(claims: Mapping[str, Any], required_acr: str, acr_order: Sequence[str]) -> bool:
    """The sign-in reached the required level and amr says "mfa"."""
    amr = claims.get("amr") or ()
    return reaches(claims.get("acr"), required_acr, acr_order) and isinstance(amr, (list, tuple)) and "mfa" in amr
