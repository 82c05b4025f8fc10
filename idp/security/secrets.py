"""Random secrets, keyed hashes for secrets at rest, constant-time comparison.

Codes, tokens and client secrets are stored as HMAC-SHA-256 under a server key with a
purpose label, so a database dump alone cannot be replayed and one purpose's hash cannot
stand in for another's (design.md, Data at rest).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets


class KeyedHasher:
    """HMAC-SHA-256 keyed by a server secret; one instance per app."""

    __slots__ = ("_key",)

    def __init__(self, key: str | bytes):
        raw = key.encode() if isinstance(key, str) else key
        # Derive a dedicated key so the configured secret is never used directly.
        self._key = hashlib.sha256(b"passerelle keyed-hash v1\x00" + raw).digest()

    def hash(self, purpose: str, plain_value: str) -> str:
        """Return the hex HMAC of plain_value under this purpose label."""
        message = purpose.encode() + b"\x00" + plain_value.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def matches(self, purpose: str, plain_value: str, stored_hash: str) -> bool:
        return equal(self.hash(purpose, plain_value), stored_hash)


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token; 32 bytes give 256 bits (RFC 6749 §10.10)."""
    return _secrets.token_urlsafe(nbytes)


def new_numeric_code(digits: int = 6) -> str:
    return f"{_secrets.randbelow(10**digits):0{digits}d}"


def equal(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time comparison."""
    if isinstance(a, str):
        a = a.encode()
    if isinstance(b, str):
        b = b.encode()
    return hmac.compare_digest(a, b)
