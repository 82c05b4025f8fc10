"""A software authenticator for the tests: an ES256 key that answers WebAuthn ceremonies
exactly as the spec lays the bytes out (WebAuthn Level 2 §6.1 authenticator data, §6.5
attestation object with the "none" format, §5.8.1 client data), as a browser would hand
them to the page, JSON-encoded like PublicKeyCredential.toJSON().

The unit tests replay ceremonies this made once (tests/fixtures/webauthn/*.json, written by
tests/fixtures/webauthn/record.py); the integration tests drive the JSON endpoints with it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes(16)  # all zeros: what a software authenticator without attestation says


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftwareAuthenticator:
    """One credential. synced=True answers like a synced passkey (backup eligible and
    backed up); counter=False like one that keeps its signature counter at zero."""

    origin: str
    rp_id: str
    synced: bool = False
    counter: bool = True
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    sign_count: int = 0

    def _flags(self, *, attested: bool) -> int:
        flags = UP | UV
        if self.synced:
            flags |= BE | BS
        if attested:
            flags |= AT
        return flags

    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: bytes, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": b64url(challenge), "origin": origin or self.origin, "crossOrigin": False},
            separators=(",", ":"),
        ).encode()

    def _rp_id_hash(self, rp_id: str | None) -> bytes:
        return hashlib.sha256((rp_id or self.rp_id).encode()).digest()

    def create(self, challenge: bytes, *, origin: str | None = None, rp_id: str | None = None) -> dict:
        """The answer to navigator.credentials.create() for this challenge."""
        attested = AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id + self.cose_public_key()
        auth_data = self._rp_id_hash(rp_id) + bytes([self._flags(attested=True)]) + struct.pack(">I", self.sign_count) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
            "authenticatorAttachment": "cross-platform", "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create", challenge, origin)),
                "attestationObject": b64url(attestation), "transports": ["usb"],
            },
        }

    def get(self, challenge: bytes, *, origin: str | None = None, rp_id: str | None = None,
            sign_count: int | None = None) -> dict:
        """The answer to navigator.credentials.get(): the counter moves on unless told."""
        if sign_count is None:
            if self.counter:
                self.sign_count += 1
            sign_count = self.sign_count
        auth_data = self._rp_id_hash(rp_id) + bytes([self._flags(attested=False)]) + struct.pack(">I", sign_count)
        client_data = self._client_data("webauthn.get", challenge, origin)
        signature = self.private_key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
            "authenticatorAttachment": "cross-platform", "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                "signature": b64url(signature), "userHandle": None,
            },
        }
