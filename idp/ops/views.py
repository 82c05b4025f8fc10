"""/health/live, /health/ready and /metrics (issue 15), on the main app and on the
management app (idp/ops/management.py).

They are cheap: no template, no locale, no rate limit, no session row. The probes answer
JSON 200 or 503; /metrics answers only addresses listed in METRICS_ALLOWED_ADDRESSES, and
404 to anybody else, as if it did not exist.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request

from idp.context import app_context
from idp.extensions import db, limiter
from idp.ops import metrics, services

bp = Blueprint("ops", __name__)
limiter.exempt(bp)

# Set by the management app: /metrics is served there, not on the main port.
MANAGEMENT = "passerelle.management"


@bp.route("/health/live")
def live():
    """The process answers. Nothing else is checked: a database outage must not get every
    worker restarted."""
    return no_store(jsonify(status="live"))


@bp.route("/health/ready")
def ready():
    """Ready to serve: the database answers and is at this release's migration head, and
    Redis answers when rate limits count there."""
    checks = readiness()
    is_ready = all(state == "ok" for state in checks.values())
    if not is_ready:
        current_app.logger.warning("not ready: %s", checks)
    response = jsonify(status="ready" if is_ready else "not ready", checks=checks)
    response.status_code = 200 if is_ready else 503
    return no_store(response)


@bp.route("/metrics")
def scrape():
    settings = app_context().settings
    if not (current_app.config.get(MANAGEMENT) or not settings.MANAGEMENT_PORT) or not settings.METRICS_ENABLED:
        abort(404)  # the management port serves them
    # Scraped directly, never through the public proxy: a forwarded request is refused even
    # from a listed address (the proxy's own, when PROXY_FIX_X_FOR is not set).
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        abort(404)
    if not is_allowed(request.remote_addr, tuple(settings.METRICS_ALLOWED_ADDRESSES)):
        abort(404)
    clock = app_context().clock
    gauges = metrics.DatabaseGauges(
        outbox=lambda: services.outbox_depth(db.session),
        invitations=lambda: services.invitations_by_state(db.session, clock()),
        now=clock,
        ready=lambda: all(state == "ok" for state in readiness().values()),
    )
    response = Response(metrics.scrape(gauges), mimetype="text/plain")
    response.headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
    return no_store(response)


def readiness() -> dict[str, str]:
    """Each check of /health/ready and its state ("ok", or what is wrong)."""
    database, migrations = services.check_database(db.engine)
    checks = {"database": database, "migrations": migrations}
    storage = redis_storage(current_app._get_current_object())  # type: ignore[attr-defined]
    if storage is not None:
        checks["redis"] = services.check_redis(storage)
    return checks


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@cache
def _networks(allowed: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(value, strict=False) for value in allowed)


def is_allowed(address: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether the client address is in one of the listed addresses or networks."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(allowed))


def redis_storage(app: Flask):
    """A limits storage for RATELIMIT_STORAGE_URI when it is Redis (built once per app), else None."""
    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "")
    if not uri.startswith(("redis://", "rediss://", "redis+")):
        return None
    storage = app.extensions.get("passerelle.ready_redis")
    if storage is None:
        from limits.storage import storage_from_string

        # Short timeouts: a probe that hangs is worse than one that says "unreachable".
        storage = storage_from_string(uri, socket_timeout=1, socket_connect_timeout=1)
        app.extensions["passerelle.ready_redis"] = storage
    return storage
