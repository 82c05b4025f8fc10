"""A client's public keys: registered by value (`jwks`) or fetched from its `jwks_uri`.

Fetched keys are kept per worker for JWKS_URI_CACHE_TTL seconds, so a client that rotates
its keys is heard within that time and an attacker cannot make Passerelle fetch on every
request. The fetch follows no redirect, waits at most a few seconds, reads at most 64 KiB
and keeps public keys only. A failed fetch gives no keys: the signature then fails to
verify (invalid_client, invalid_request_object), never a 500.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

JWKS_URI_CACHE_TTL = 300  # seconds
FETCH_TIMEOUT = 5  # seconds, to connect and between reads
MAX_JWKS_BYTES = 64 * 1024


def fetch_jwks(uri: str) -> dict[str, Any] | None:
    """The JWKS at uri, or None when it cannot be had or is not a set of public keys."""
    try:
        with requests.get(uri, timeout=FETCH_TIMEOUT, allow_redirects=False, stream=True,
                          headers={"Accept": "application/json, application/jwk-set+json"}) as response:
            if response.status_code != 200:
                return None
            body = b""
            for chunk in response.iter_content(8192):
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    return None
        data = json.loads(body)
    except (requests.RequestException, ValueError):
        return None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not all(isinstance(key, dict) and "d" not in key and key.get("kty") != "oct"
                                             for key in keys):
        return None
    return {"keys": keys}


class ClientKeys:
    """Resolves a client's public keys; one per app (PasserelleServer.client_keys)."""

    def __init__(self, fetch: Callable[[str], dict[str, Any] | None] = fetch_jwks, ttl: float = JWKS_URI_CACHE_TTL):
        self.fetch = fetch
        self.ttl = ttl
        self._cache: dict[str, tuple[float, KeySet]] = {}
        self._lock = threading.Lock()

    def for_client(self, client) -> KeySet:
        if client.jwks or not client.jwks_uri:
            try:
                return client.public_keys()
            except (JoseError, ValueError, TypeError, KeyError):
                return KeySet([])  # no keys registered: nothing verifies
        now = time.monotonic()
        cached = self._cache.get(client.jwks_uri)
        if cached and cached[0] > now:
            return cached[1]
        data = self.fetch(client.jwks_uri)
        try:
            keys = KeySet.import_key_set(data) if data else KeySet([])
        except (JoseError, ValueError, TypeError, KeyError):
            keys = KeySet([])
        if data:
            with self._lock:
                if len(self._cache) > 1000:
                    self._cache.clear()
                self._cache[client.jwks_uri] = (now + self.ttl, keys)
        return keys
