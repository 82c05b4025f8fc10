"""Sending back-channel logout tokens (Back-Channel Logout 1.0 §2.5), from `idp worker` only.

A request that ends a session only queues (LogoutService.enqueue, in its own transaction):
a relying party that hangs, answers 500 or is down never delays a sign-out page. The worker
claims each due delivery (FOR UPDATE SKIP LOCKED on PostgreSQL), signs a fresh logout token
with the key and algorithm of the client's ID tokens, POSTs it with LOGOUT_TIMEOUT, never
follows a redirect, and records the attempt; idp.logout.tokens.decide says what follows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import requests
from flask import current_app
from sqlalchemy import select

from idp.context import app_context
from idp.extensions import db
from idp.logout.services import LogoutService
from idp.logout.tokens import LOGOUT_TOKEN_TYPE, logout_token_claims
from idp.oidc.models import Client
from idp.ops import metrics

log = logging.getLogger(__name__)
MAX_ERROR_BODY = 200  # characters of a refusal's body kept for the operator


def get_logout_service() -> LogoutService:
    ctx = app_context()
    return LogoutService(db.session, ctx.settings, ctx.clock)


def sign_logout_token(client: Client, subject: str, sid: str) -> str:
    """A logout token for this client, signed like its ID tokens (same key, same alg)."""
    ctx = app_context()
    server = current_app.extensions["oidc_server"]
    claims = logout_token_claims(issuer=server.issuer, client_id=client.client_id, subject=subject, sid=sid,
                                 now=ctx.clock(), ttl=ctx.settings.LOGOUT_TOKEN_TTL)
    return server.sign(claims, client.id_token_signed_response_alg, typ=LOGOUT_TOKEN_TYPE)


def post_logout_token(uri: str, token: str, timeout: float) -> tuple[int | None, str | None]:
    """POST the token as the form parameter logout_token (§2.5). Returns (HTTP status, error):
    status None when no answer came (refused, reset, timed out)."""
    try:
        with requests.post(uri, data={"logout_token": token}, timeout=timeout, allow_redirects=False, stream=True,
                           headers={"Accept": "application/json", "Cache-Control": "no-store"}) as response:
            if 200 <= response.status_code < 300:
                return response.status_code, None
            body = next(response.iter_content(MAX_ERROR_BODY, decode_unicode=False), b"")
            return response.status_code, body.decode("utf-8", "replace")[:MAX_ERROR_BODY] or None
    except requests.RequestException as error:
        return None, f"{type(error).__name__}: {error}"[:255]


def notice_expired_sessions() -> int:
    """End the sessions that expired (idle or absolute) and had signed into a relying party,
    queuing their deliveries; commits. Returns how many ended."""
    ended = get_logout_service().end_expired_sessions()
    db.session.commit()
    return ended


def deliver_logouts(*, stop: Callable[[], bool] | None = None, limit: int = 100) -> tuple[int, int]:
    """Send up to `limit` due logout tokens, committing after each. Returns (delivered, not
    delivered this time)."""
    service = get_logout_service()
    timeout = float(app_context().settings.LOGOUT_TIMEOUT)
    delivered = missed = 0
    for _ in range(limit):
        if stop is not None and stop():
            break
        delivery = service.claim_next()
        db.session.commit()
        if delivery is None:
            break
        client = db.session.scalar(select(Client).where(Client.client_id == delivery.client_id))
        if client is None or not client.backchannel_logout_uri:
            service.record_attempt(delivery, None, "the client was deleted or no longer has a backchannel_logout_uri",
                                   0, permanent=True)
            db.session.commit()
            metrics.count_logout_delivery("failed")
            missed += 1
            continue
        started = time.monotonic()
        status, error = post_logout_token(delivery.uri, sign_logout_token(client, delivery.subject, delivery.sid),
                                          timeout)
        outcome = service.record_attempt(delivery, status, error, int((time.monotonic() - started) * 1000))
        db.session.commit()
        metrics.count_logout_delivery({"delivered": "delivered", "failed": "failed"}.get(outcome.state, "retry"))
        if outcome.state == "delivered":
            delivered += 1
            continue
        missed += 1
        log.log(logging.ERROR if outcome.state == "failed" else logging.WARNING,
                "back-channel logout %s to client %s: %s (%s)", delivery.id, delivery.client_id,
                "given up" if outcome.state == "failed" else "will retry", error or status)
    return delivered, missed
