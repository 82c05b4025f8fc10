"""ES256 compact JWS (RFC 7515 §7.1, RFC 7518 §3.4) for the tokens Passerelle signs.

joserfc's general path (header registry, algorithm lookup, key checks, claims conversion)
costs more CPU than the P-256 signature itself on every ID token (docs/performance.md,
"Token endpoint"). The bytes are those joserfc's jwt.encode makes: the header
{"typ", "alg", "kid"} as ASCII JSON without spaces, built once per key, the claims as
UTF-8 JSON without spaces, and the signature as R || S, 32 bytes each.
"""

from __future__ import annotations

import json
import threading
from base64 import urlsafe_b64encode
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256

ALG = "ES256"
CURVE = "P-256"
_SIGNATURE_ALGORITHM = ECDSA(SHA256())


def _b64(data: bytes) -> bytes:
    return urlsafe_b64encode(data).rstrip(b"=")


class ES256Signer:
    """Signs with joserfc EC keys of the P-256 curve; one per server, safe across threads."""

    def __init__(self):
        self._prepared: dict[tuple[str, str], tuple[Any, bytes, Any]] = {}
        self._lock = threading.Lock()

    def can_sign(self, key) -> bool:
        return getattr(key, "key_type", None) == "EC" and getattr(key, "curve_name", None) == CURVE

    def sign(self, kid: str, key, claims: dict[str, Any], typ: str = "JWT") -> str:
        prepared = self._prepared.get((kid, typ))
        if prepared is None or prepared[0] is not key:
            header = json.dumps({"typ": typ, "alg": ALG, "kid": kid}, ensure_ascii=True, separators=(",", ":"))
            prepared = (key, _b64(header.encode("ascii")), key.get_op_key("sign"))
            with self._lock:
                self._prepared[(kid, typ)] = prepared
        _, header_segment, private_key = prepared
        payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        signing_input = header_segment + b"." + _b64(payload)
        r, s = decode_dss_signature(private_key.sign(signing_input, _SIGNATURE_ALGORITHM))
        return (signing_input + b"." + _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))).decode("ascii")
