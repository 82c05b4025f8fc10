"""Per-worker caches of database records that rarely change: client records and keys.

Each entry lives a few seconds (OIDC_CLIENT_CACHE_TTL, OIDC_KEY_CACHE_TTL): the hot token
path then costs no client or key query, and a change made by `idp` on any host reaches
every worker within that time. The database stays the only source of truth.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.oidc.client_secrets import secret_matches
from idp.oidc.keys import ActiveKeys, KeyService
from idp.oidc.models import Client
from idp.security.secrets import KeyedHasher


@dataclass(frozen=True, eq=False)
class OAuthClient(ClientMixin):
    """An immutable snapshot of a client record, in the shape Authlib expects."""

    client_id: str
    name: str
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    grant_types: frozenset[str]
    scopes: tuple[str, ...]
    token_endpoint_auth_method: str
    is_public: bool
    subject_type: str
    sector_identifier: str
    require_consent: bool
    id_token_alg: str
    jwks: dict[str, Any] | None
    hasher: KeyedHasher
    min_acr: str | None = None  # the lowest assurance level the client accepts (step-up)
    require_pkce: bool = True  # PKCE on every authorization request unless opted out
    require_pushed_authorization_requests: bool = False  # PAR only (RFC 9126 §6)
    jwks_uri: str | None = None  # where the public keys are when jwks is not given
    require_signed_request_object: bool = False  # JAR only (RFC 9101 §10.5)
    allow_unsigned_request_objects: bool = False  # alg none accepted (operator's choice)
    dpop_bound_access_tokens: bool = False  # every token request carries a DPoP proof (RFC 9449 §5.2)
    dpop_require_nonce: bool = False  # its DPoP proofs carry a nonce from Passerelle (§8)
    profile: str | None = None  # a policy set (fapi2: the algorithms it may sign with, client_rules)
    # The secret a rotation replaced, accepted until its overlap ends (idp.oidc.client_secrets).
    previous_secret_hash: str | None = None
    previous_secret_expires_at: datetime | None = None
    clock: Callable[[], datetime] | None = None  # the app's clock: when the overlap ends

    @classmethod
    def from_record(cls, record: Client, hasher: KeyedHasher, clock: Callable[[], datetime] | None = None) -> OAuthClient:
        return cls(
            client_id=record.client_id,
            name=record.name,
            secret_hash=record.secret_hash,
            redirect_uris=tuple(record.redirect_uris or ()),
            post_logout_redirect_uris=tuple(record.post_logout_redirect_uris or ()),
            grant_types=frozenset(record.grant_types or ()),
            scopes=tuple(record.scope.split()),
            token_endpoint_auth_method=record.token_endpoint_auth_method,
            is_public=record.is_public,
            subject_type=record.subject_type,
            sector_identifier=record.sector_identifier,
            require_consent=record.require_consent,
            id_token_alg=record.id_token_signed_response_alg,
            jwks=record.jwks,
            hasher=hasher,
            min_acr=record.min_acr,
            require_pkce=record.require_pkce or record.is_public,
            require_pushed_authorization_requests=record.require_pushed_authorization_requests,
            jwks_uri=record.jwks_uri,
            require_signed_request_object=record.require_signed_request_object,
            allow_unsigned_request_objects=record.allow_unsigned_request_objects,
            dpop_bound_access_tokens=record.dpop_bound_access_tokens,
            dpop_require_nonce=record.dpop_require_nonce,
            profile=record.profile,
            previous_secret_hash=record.previous_secret_hash,
            previous_secret_expires_at=record.previous_secret_expires_at,
            clock=clock,
        )

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # OIDC Core §3.1.2.1 makes redirect_uri mandatory: never fall back to a registered one.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The requested scopes this client may have, in request order; unknown ones are dropped."""
        requested = (scope or "").split()
        return " ".join(dict.fromkeys(value for value in requested if value in self.scopes))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact string match, no normalisation (RFC 9700 §2.1, §4.1.3)."""
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """The current secret, or the previous one while a rotation's overlap runs."""
        now = self.clock() if self.clock is not None and self.previous_secret_hash else None
        return secret_matches(self.hasher, client_secret, self.secret_hash, self.previous_secret_hash,
                              self.previous_secret_expires_at, now)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    def public_keys(self) -> KeySet:
        return KeySet.import_key_set(self.jwks or {"keys": []})


class ClientDirectory:
    """Client lookups for one app, cached per worker for a few seconds."""

    def __init__(self, hasher: KeyedHasher, ttl: float, clock: Callable[[], datetime] | None = None):
        self.hasher = hasher
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[float, OAuthClient | None]] = {}
        self._lock = threading.Lock()

    def get(self, session, client_id: str | None) -> OAuthClient | None:
        if not client_id or not isinstance(client_id, str) or len(client_id) > 64:
            return None
        now = time.monotonic()
        entry = self._entries.get(client_id)
        if entry and entry[0] > now:
            return entry[1]
        record = session.scalars(select(Client).where(Client.client_id == client_id)).one_or_none()
        # A disabled client is unknown to every endpoint (the console, idp.console.clients).
        client = OAuthClient.from_record(record, self.hasher, self.clock) if record and not record.disabled_at else None
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) > 10_000:
                    self._entries.clear()
                self._entries[client_id] = (now + self.ttl, client)
        return client


class KeyRing:
    """The signing and published keys, reloaded from the database every few seconds."""

    def __init__(self, ttl: float):
        self.ttl = ttl
        self._active: ActiveKeys | None = None
        self._imported: dict = {}  # kid -> private key, kept for the worker's life
        self._lock = threading.Lock()

    def fresh(self) -> ActiveKeys | None:
        """The keys read less than ttl seconds ago, or None when they must be read again."""
        active = self._active
        if active is not None and time.monotonic() - active.loaded_at < self.ttl:
            return active
        return None

    def active(self, key_service: KeyService, commit) -> ActiveKeys:
        active = self.fresh()
        if active is not None:
            return active
        with self._lock:
            active = key_service.load_active(self._imported)
            if len(active.signing) < 2:
                key_service.ensure_keys()
                commit()
                active = key_service.load_active(self._imported)
            self._active = active
            return active
