"""Password hashing with argon2id (NIST SP 800-63B §5.1.1.2, ASVS 6.2, 11.4.2)."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from idp.security.password_policy import MAX_ALLOWED_LENGTH
from idp.security.unicode_forms import normalize_password

__all__ = ["MAX_PASSWORD_LENGTH", "PasswordHasher", "normalize_password"]

MAX_PASSWORD_LENGTH = MAX_ALLOWED_LENGTH  # characters; checked before hashing so a huge input is cheap to refuse


def _secret_bytes(plain_password: str) -> bytes:
    """NFKC then UTF-8, so "é" typed precomposed or as "e" + U+0301 is one password.

    surrogatepass: a lone surrogate (possible in JSON, never from a browser form) hashes
    instead of raising; valid text encodes exactly as plain UTF-8, so stored hashes still
    verify.
    """
    return normalize_password(plain_password).encode("utf-8", "surrogatepass")


class PasswordHasher:
    """argon2id at OWASP's recommended minimum: m = 19 MiB, t = 2, p = 1 (Password Storage
    Cheat Sheet); one instance per app.

    Not RFC 9106's parameters: its low-memory recommendation (§4, and argon2-cffi's
    default profile) is m = 64 MiB, t = 3, p = 4. These cost about a third of the memory
    per check, which bounds what simultaneous sign-ins take; hashes made with other
    parameters still verify and are rehashed at the next sign-in (needs_rehash).
    """

    def __init__(self, time_cost: int = 2, memory_cost: int = 19456, parallelism: int = 1):
        self._hasher = _Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        # Verified against when the account does not exist, so timing does not reveal it.
        self._dummy_hash = self._hasher.hash("passerelle dummy password")

    def hash(self, plain_password: str) -> str:
        """The argon2id hash of the NFKC-normalised password (800-63B §5.1.1.2); no truncation."""
        return self._hasher.hash(_secret_bytes(plain_password))

    def verify(self, password_hash: str | None, plain_password: str) -> bool:
        """True when plain_password matches; runs a full verification even without a hash."""
        if len(plain_password) > MAX_PASSWORD_LENGTH:
            return False
        candidate = _secret_bytes(plain_password)
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, candidate) and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)
