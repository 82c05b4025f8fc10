"""Logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4) and when to try a delivery
again. Pure: no database, no Flask; the worker signs and sends (idp.logout.delivery)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"  # the JWT `typ` header (§2.4, explicit typing per RFC 8725 §3.11)
MAX_RETRY_DELAY = timedelta(hours=1)


def logout_token_claims(*, issuer: str, client_id: str, subject: str | None, sid: str | None, now: datetime,
                        ttl: int, jti: str | None = None) -> dict[str, Any]:
    """The claims of one logout token: iss, aud, iat, exp, jti, events, and sub and/or sid.
    Never a `nonce` (§2.4: a logout token carrying one must be refused)."""
    if not subject and not sid:
        raise ValueError("a logout token needs sub or sid (§2.4)")
    issued_at = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": client_id,
        "iat": issued_at,
        "exp": issued_at + ttl,
        "jti": jti or secrets.token_urlsafe(24),
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    if subject:
        claims["sub"] = subject
    if sid:
        claims["sid"] = sid
    return claims


@dataclass(frozen=True)
class Outcome:
    """What one attempt leads to: delivered, a retry at retry_at, or failed for good."""

    state: str  # "delivered", "retry" or "failed"
    retry_at: datetime | None = None


def decide(status: int | None, *, attempt: int, max_attempts: int, now: datetime, base_delay: int) -> Outcome:
    """After attempt number `attempt` (1 for the first): 2xx is delivered. No answer (a
    timeout, a refused connection) or a 5xx is retried after base_delay seconds, doubling
    each time (at most an hour), until max_attempts; a 4xx, a redirect or anything else is the
    relying party refusing this token, which a retry would not change (§2.8)."""
    if status is not None and 200 <= status < 300:
        return Outcome("delivered")
    if status is None or 500 <= status < 600:
        if attempt >= max_attempts:
            return Outcome("failed")
        delay = min(timedelta(seconds=base_delay * 2 ** (attempt - 1)), MAX_RETRY_DELAY)
        return Outcome("retry", now + delay)
    return Outcome("failed")
