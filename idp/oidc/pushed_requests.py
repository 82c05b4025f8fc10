"""Pushed authorization requests (RFC 9126): store a validated request, spend its request_uri.

No Flask here: idp.oidc.pushed is the endpoint's glue. The request_uri is random and kept
only as a keyed hash; it is spent by one conditional UPDATE (one winner across hosts), by
the client that pushed it, within PAR_REQUEST_URI_TTL seconds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from idp.clock import Clock
from idp.oidc.models import PushedAuthorizationRequest
from idp.security.secrets import KeyedHasher, new_token

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
HASH_PURPOSE = "par_request_uri"
TTL = timedelta(seconds=60)  # RFC 9126 §2.2: short; 60 s is the example's and FAPI 2.0's bound


class PushedRequestService:
    def __init__(self, session: Session, clock: Clock, hasher: KeyedHasher):
        self.session = session
        self.clock = clock
        self.hasher = hasher

    def push(self, client_id: str, params: dict[str, Any], *, signed: bool) -> tuple[str, int]:
        """Keep a validated request. Returns (request_uri, expires_in seconds)."""
        now = self.clock()
        # Expired ones are of no use to anyone: each push sweeps them, so the table stays small.
        self.session.execute(delete(PushedAuthorizationRequest).where(PushedAuthorizationRequest.expires_at < now))
        request_uri = REQUEST_URI_PREFIX + new_token(32)
        self.session.add(PushedAuthorizationRequest(
            request_uri_hash=self.hasher.hash(HASH_PURPOSE, request_uri), client_id=client_id, params=dict(params),
            signed=signed, created_at=now, expires_at=now + TTL,
        ))
        self.session.flush()
        return request_uri, int(TTL.total_seconds())

    def take(self, client_id: str, request_uri: str) -> PushedAuthorizationRequest | None:
        """Spend a request_uri: the stored request, or None when it is unknown, expired,
        already used or another client's (RFC 9126 §4: one-time, bound to its client)."""
        if not isinstance(request_uri, str) or not request_uri.startswith(REQUEST_URI_PREFIX) or len(request_uri) > 200:
            return None
        request_uri_hash = self.hasher.hash(HASH_PURPOSE, request_uri)
        now = self.clock()
        spent = self.session.execute(
            update(PushedAuthorizationRequest)
            .where(PushedAuthorizationRequest.request_uri_hash == request_uri_hash,
                   PushedAuthorizationRequest.client_id == client_id,
                   PushedAuthorizationRequest.used_at.is_(None),
                   PushedAuthorizationRequest.expires_at > now)
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            return None
        return self.session.scalars(
            select(PushedAuthorizationRequest).where(PushedAuthorizationRequest.request_uri_hash == request_uri_hash)
        ).one()
