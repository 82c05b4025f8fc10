"""Checking a presented client secret (client_secret_basic / client_secret_post, RFC 6749
§2.3.1) against the keyed hashes at rest, the previous secret included while a rotation's
overlap runs (`idp clients rotate-secret --overlap`, the console). No database, no Flask:
the token, introspection, revocation and PAR endpoints reach it through
OAuthClient.check_client_secret (idp.oidc.directory), the one place secrets are checked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from idp.security.secrets import KeyedHasher, equal

SECRET_PURPOSE = "client_secret"
# The longest overlap an operator may give a rotation: long enough for a planned change at
# a relying party, short enough that a leaked secret does not outlive its replacement long.
MAX_SECRET_OVERLAP = timedelta(days=30)


def is_overlap_running(previous_hash: str | None, previous_expires_at: datetime | None, now: datetime | None) -> bool:
    """The previous secret still authenticates: there is one and its overlap has not ended."""
    return bool(previous_hash) and previous_expires_at is not None and now is not None and now < previous_expires_at


def secret_matches(hasher: KeyedHasher, plain_secret: str, secret_hash: str | None, previous_hash: str | None,
                   previous_expires_at: datetime | None, now: datetime | None) -> bool:
    """True when plain_secret is the current secret, or the previous one before its overlap
    ends. One HMAC, compared in constant time with each stored hash in use (no early exit
    that would tell which one matched)."""
    if not secret_hash or not isinstance(plain_secret, str):
        return False
    presented = hasher.hash(SECRET_PURPOSE, plain_secret)
    current = equal(presented, secret_hash)
    previous = is_overlap_running(previous_hash, previous_expires_at, now) and equal(presented, previous_hash)
    return current | previous
