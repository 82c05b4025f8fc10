"""Encryption of secrets kept in the database (signing keys), under a key from configuration."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class DecryptionFailed(Exception):
    """The ciphertext was not made with the configured key (wrong KEYS_ENCRYPTION_KEY?)."""


class SecretBox:
    """Fernet (AES-128-CBC + HMAC-SHA-256) keyed from KEYS_ENCRYPTION_KEY."""

    def __init__(self, key: str | bytes):
        raw = key.encode() if isinstance(key, str) else key
        derived = hashlib.sha256(b"passerelle secret-box v1\x00" + raw).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            return self._fernet.decrypt(ciphertext)
        except InvalidToken as error:
            raise DecryptionFailed from error
