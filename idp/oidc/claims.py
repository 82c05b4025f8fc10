"""Claims: pairwise subjects, scope-to-claim mapping, the `claims` request parameter and ID
token assembly. Pure functions: no Flask, no database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

# OIDC Core §5.4: the claims each scope asks for (organization: Passerelle's own, issue 11).
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
        "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
    # The person's active organization membership (issue 11), granted by operators only.
    "organization": ("organization",),
}
ORGANIZATION_SCOPE = "organization"
SUPPORTED_SCOPES = ("openid", "profile", "email", "phone", "address", "offline_access", ORGANIZATION_SCOPE)
CLAIMS_SUPPORTED = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "sid",
    "name", "given_name", "family_name", "locale", "updated_at",
    "email", "email_verified", "phone_number", "phone_number_verified", "address", "organization",
)


class InvalidClaimsParameter(ValueError):
    """The `claims` authorization parameter is not the JSON object of OIDC Core §5.5."""


def pairwise_subject(salt: str, sector_identifier: str, user_subject: str) -> str:
    """OIDC Core §8.1: the same person gets a different, stable `sub` in each sector."""
    digest = hmac.new(salt.encode(), f"{sector_identifier}\x00{user_subject}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def subject_for(client_subject_type: str, sector_identifier: str, user_subject: str, salt: str) -> str:
    if client_subject_type == "public":
        return user_subject
    return pairwise_subject(salt, sector_identifier, user_subject)


def parse_claims_parameter(raw: str | None) -> dict[str, dict[str, Any]] | None:
    """Parse `claims` into {"userinfo": {...}, "id_token": {...}}; None when absent."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as error:
        raise InvalidClaimsParameter("claims is not valid JSON") from error
    if not isinstance(value, dict):
        raise InvalidClaimsParameter("claims must be a JSON object")
    parsed: dict[str, dict[str, Any]] = {}
    for target in ("userinfo", "id_token"):
        members = value.get(target)
        if members is None:
            continue
        if not isinstance(members, dict) or not all(isinstance(v, dict | None) for v in members.values()):
            raise InvalidClaimsParameter(f"claims.{target} must map claim names to objects or null")
        parsed[target] = {name: spec for name, spec in members.items() if name in CLAIMS_SUPPORTED}
    return parsed


def requested_acr_values(claims: Mapping[str, Any] | None, acr_values: str | None) -> list[str]:
    """acr values asked for through `acr_values` or the `claims` parameter (OIDC Core §5.5.1.1)."""
    values = (acr_values or "").split()
    spec = ((claims or {}).get("id_token") or {}).get("acr") or {}
    if isinstance(spec, dict):
        if isinstance(spec.get("value"), str):
            values.append(spec["value"])
        values.extend(v for v in spec.get("values") or [] if isinstance(v, str))
    return values


def user_claims(user: Any) -> dict[str, Any]:
    """Every claim Passerelle holds about a person, without empty values."""
    claims = {
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "locale": user.locale,
        "updated_at": int(user.updated_at.timestamp()) if user.updated_at else None,
        "email": user.email,
        "email_verified": bool(user.email_verified),
        "phone_number": user.phone_number,
        "phone_number_verified": bool(user.phone_number_verified) if user.phone_number else None,
        "address": user.address or None,
    }
    return without_empty(claims)


def claims_for_scope(scope: str, available: Mapping[str, Any], only: Iterable[str] | None = None) -> dict[str, Any]:
    """Claims the granted scope releases (OIDC Core §5.4); with `only`, just those of them
    named there. The `claims` parameter (§5.5) selects among what the scopes release and
    never adds to it, so a client cannot read what the person did not consent to (as node
    oidc-provider does)."""
    names = scope_claim_names(scope)
    if only is not None:
        names &= set(only)
    return {name: available[name] for name in names if name in available}


def scope_claim_names(scope: str) -> set[str]:
    """The person's claims the scopes of `scope` release."""
    names: set[str] = set()
    for value in scope.split():
        names.update(SCOPE_CLAIMS.get(value, ()))
    return names


def claims_within_scope(requested: Mapping[str, Any] | None, scope: str) -> dict[str, Any] | None:
    """The `claims` parameter without the person's claims the granted scope does not release;
    protocol claims (acr, auth_time, ...) stay. Stored with the code so that no later step
    can release more."""
    if requested is None:
        return None
    person_claims = scope_claim_names(" ".join(SCOPE_CLAIMS))
    allowed = scope_claim_names(scope)
    return {
        target: {name: spec for name, spec in members.items() if name in allowed or name not in person_claims}
        for target, members in requested.items()
    }


def without_empty(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Drop None and empty strings: a claim is never `null` (conformance §2.1)."""
    return {key: value for key, value in claims.items() if value is not None and value != ""}


def id_token_claims(
    *,
    issuer: str,
    subject: str,
    client_id: str,
    now: datetime,
    ttl: int,
    auth_time: datetime | None,
    nonce: str | None,
    acr: str | None,
    amr: Iterable[str] | None,
    sid: str | None,
    at_hash: str | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ID token payload of OIDC Core §2; only `sub` and the protocol claims, plus claims
    explicitly requested for the ID token (profile claims belong in UserInfo)."""
    issued_at = int(now.timestamp())
    claims = {
        **(extra or {}),
        "iss": issuer,
        "sub": subject,
        "aud": client_id,
        "azp": client_id,
        "iat": issued_at,
        "exp": issued_at + ttl,
        "auth_time": int(auth_time.timestamp()) if auth_time else None,
        "nonce": nonce,
        "acr": acr,
        "amr": list(amr) if amr else None,
        "sid": sid,
        "at_hash": at_hash,
    }
    return without_empty(claims)


def half_hash(value: str) -> str:
    """at_hash for ES256/RS256: left half of SHA-256, base64url (OIDC Core §3.1.3.6)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
