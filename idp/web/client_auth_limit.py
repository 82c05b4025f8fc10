"""Failed client authentications at the token endpoints (/token, /introspect, /revoke), per
client address (security checklist RATE-06): OIDC_CLIENT_AUTH_RATE_LIMIT of them, then 429
until the window ends, whatever the next request presents.

Machine endpoints skip Flask-Limiter's request hook (idp.web.machine), so this counts in
its storage directly: the same RATELIMIT_STORAGE_URI (Redis for several workers or hosts,
which then share the count), the same key prefix and the same fixed windows. A request
costs one read of the counter; only a failure writes.
"""

from __future__ import annotations

import json
import logging
import math
import time

from flask import Response, current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from idp.extensions import limiter

log = logging.getLogger(__name__)
SCOPE = "oidc-client-auth"
DESCRIPTION = "Too many failed client authentications from this address: wait, then try again."
_parsed: dict[str, list[RateLimitItem]] = {}


def _limits() -> list[RateLimitItem]:
    value = current_app.config.get("OIDC_CLIENT_AUTH_RATE_LIMIT") or ""
    items = _parsed.get(value)
    if items is None:
        items = _parsed[value] = parse_many(value) if value else []
    return items if limiter.enabled else []


def _identifiers(address: str | None = None) -> tuple[str, ...]:
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    return (*((prefix,) if prefix else ()), SCOPE, address or get_remote_address())


def refusal() -> Response | None:
    """The 429 to answer when this address has used up its failed authentications, else None."""
    wait = retry_after(get_remote_address())
    return None if wait is None else too_many_requests(wait)


def retry_after(address: str) -> int | None:
    """Seconds until this client address may try again when it has used up its failed
    authentications, else None. Needs only the app context (idp.oidc.token_server asks
    before Flask, with the address Flask-Limiter's get_remote_address would give)."""
    items = _limits()
    if not items:
        return None
    strategy, identifiers = limiter.limiter, _identifiers(address)
    try:
        for item in items:
            if not strategy.test(item, *identifiers):
                reset = strategy.get_window_stats(item, *identifiers).reset_time
                return max(1, math.ceil(reset - time.time()))
    except Exception as error:  # noqa: BLE001 - any storage error, as Flask-Limiter catches them
        _storage_failed(error)
    return None


def count_failure() -> None:
    """One more failed client authentication from this address."""
    items = _limits()
    if items:
        strategy, identifiers = limiter.limiter, _identifiers()
        try:
            for item in items:
                strategy.hit(item, *identifiers)
        except Exception as error:  # noqa: BLE001 - any storage error, as Flask-Limiter catches them
            _storage_failed(error)


def _storage_failed(error: Exception) -> None:
    """As Flask-Limiter does: the error stands (the request fails) unless the operator set
    RATELIMIT_SWALLOW_ERRORS, which lets requests through uncounted while the storage is down."""
    if not current_app.config.get("RATELIMIT_SWALLOW_ERRORS"):
        raise error
    log.warning("Failed to count a client authentication failure. Swallowing error: %s", error)


def count_if_refused(response: Response) -> None:
    """Count the failure when a token endpoint's answer is invalid_client (RFC 6749 §5.2)."""
    if response.status_code in (400, 401) and b'"invalid_client"' in response.get_data():
        count_failure()


def too_many_requests(retry_after: int) -> Response:
    body = json.dumps({"error": "too_many_requests", "error_description": DESCRIPTION})
    response = Response(body, status=429, mimetype="application/json")
    response.headers.update({"Retry-After": str(retry_after), "Cache-Control": "no-store", "Pragma": "no-cache"})
    return response
