"""Prometheus metrics (issue 15): what they count, and the scrape.

Counters and histograms are module-level, as prometheus_client wants. Under several worker
processes (granian, gunicorn) set PROMETHEUS_MULTIPROC_DIR before the server starts: each
process then writes its values to files there, and a scrape adds every process's up
(prometheus_client's multiprocess mode). Gauges that describe the database (the outbox,
invitations) are computed at scrape time by one query each, never kept per process.

Label values are bounded: Flask endpoint names (never a path), status codes, event tags,
grant types, factor names. No email, subject, address or IP ever becomes a label; client ids
only when an operator sets METRICS_CLIENT_LABELS. No Flask here: the audit log and the grants
call these functions, and idp/ops/views.py serves the scrape.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY

PREFIX = "passerelle"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})
# A label taken from data (a failure reason, an error class): kept if it looks like a name.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")

REQUESTS = Counter(f"{PREFIX}_http_requests", "HTTP requests answered, by Flask endpoint, method and status.",
                   ["endpoint", "method", "status"])
REQUEST_SECONDS = Histogram(f"{PREFIX}_http_request_duration_seconds", "Time to answer a request, by Flask endpoint.",
                            ["endpoint"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS = Counter(f"{PREFIX}_security_events", "Security events recorded, by tag (idp/audit.py EventTag).", ["tag"])
SIGNINS = Counter(f"{PREFIX}_signins", "Sign-in attempts, by outcome and method.", ["outcome", "method"])
SECOND_FACTOR_CHECKS = Counter(f"{PREFIX}_second_factor_checks", "Second-factor checks, by factor and outcome.",
                               ["factor", "outcome"])
LOCKOUTS = Counter(f"{PREFIX}_lockouts", "Accounts locked after failed sign-ins, by kind of lock.", ["kind"])
TOKENS = Counter(f"{PREFIX}_tokens_issued", "Token responses issued, by grant type (and client when allowed).",
                 ["grant_type", "client"])
RATE_LIMITED = Counter(f"{PREFIX}_rate_limit_refusals", "Requests refused by a rate limit (429), by endpoint.",
                       ["endpoint"])
MAIL = Counter(f"{PREFIX}_mail_deliveries", "Outbox delivery attempts, by outcome.", ["outcome"])
LOGOUT_DELIVERIES = Counter(f"{PREFIX}_backchannel_logout_deliveries",
                            "Back-channel logout token deliveries, by outcome (delivered, retry, failed).", ["outcome"])

# Event tags (idp.audit.EventTag values) and what they count beyond EVENTS.
_SIGNIN_SUCCESS = "account:signin:success"
_SIGNIN_FAILURE = "account:signin:failure"
_LOCKS = {"account:signin:locked": "temporary", "account:signin:unlock_required": "unlock_required"}
_FACTOR_EVENTS = {
    "account:email_code:failure": ("email_code", "failure"),
    "account:totp:failure": ("totp", "failure"),
    "account:recovery_code:failure": ("recovery_code", "failure"),
    "account:recovery_code:used": ("recovery_code", "success"),
}
# Sign-in steps that are second factors (idp.signin.flow), counted when one is passed.
SECOND_FACTORS = frozenset({"email_code", "totp", "webauthn", "webauthn_swk"})

_client_labels = False


def configure(*, client_labels: bool) -> None:
    """Whether token counters carry the client id (METRICS_CLIENT_LABELS)."""
    global _client_labels
    _client_labels = client_labels


def bounded(value: object, default: str = "other") -> str:
    text = str(value) if value is not None else ""
    return text if _NAME.fullmatch(text) else default


def count_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    name = endpoint or "none"  # no route matched (404, 405): never the path
    REQUESTS.labels(name, method if method in METHODS else "other", str(status)).inc()
    REQUEST_SECONDS.labels(name).observe(seconds)
    if status == 429:
        RATE_LIMITED.labels(name).inc()


def count_event(tag: str, details: dict) -> None:
    """Called by idp.audit.record_event for every security event: the one place sign-ins,
    failed second factors and lockouts are counted."""
    EVENTS.labels(tag).inc()
    if tag == _SIGNIN_SUCCESS:
        SIGNINS.labels("success", "+".join(sorted(bounded(value) for value in details.get("amr") or ())) or "none").inc()
    elif tag == _SIGNIN_FAILURE:
        method = details.get("method") or details.get("step") or "unknown"
        SIGNINS.labels("failure", bounded(method)).inc()
        if method == "webauthn":
            SECOND_FACTOR_CHECKS.labels("webauthn", "failure").inc()
    elif tag in _LOCKS:
        LOCKOUTS.labels(_LOCKS[tag]).inc()
    elif tag in _FACTOR_EVENTS:
        SECOND_FACTOR_CHECKS.labels(*_FACTOR_EVENTS[tag]).inc()


def count_step(name: str) -> None:
    """A sign-in step was passed (idp.signin.services.record_step)."""
    if name in SECOND_FACTORS:
        SECOND_FACTOR_CHECKS.labels("webauthn" if name.startswith("webauthn") else name, "success").inc()


def count_token(grant_type: str, client_id: str) -> None:
    TOKENS.labels(grant_type if grant_type in GRANT_TYPES else "other", client_id if _client_labels else "").inc()


def count_mail(outcome: str) -> None:
    MAIL.labels(outcome).inc()


def count_logout_delivery(outcome: str) -> None:
    """delivered, retry (network error or 5xx, tried again later) or failed (given up)."""
    LOGOUT_DELIVERIES.labels(outcome).inc()


def is_multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def prepare_multiprocess_dir() -> None:
    """Create PROMETHEUS_MULTIPROC_DIR if it is set and missing: prometheus_client writes
    its first value file there at the first request, and would fail every request without
    it. Called when an app is built, before any request."""
    if is_multiprocess():
        os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


class _ProcessCollector:
    """This process's own metrics, when there are no others to add up."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class DatabaseGauges:
    """Gauges read from the database at scrape time: `ready()` whether /health/ready would
    answer 200, `outbox()` (queued messages, created_at of the oldest or None),
    `invitations()` a count per state. When not ready, only passerelle_ready (0) is given."""

    def __init__(self, outbox: Callable[[], tuple[int, datetime | None]],
                 invitations: Callable[[], dict[str, int]], now: Callable[[], datetime],
                 ready: Callable[[], bool] = lambda: True):
        self._outbox, self._invitations, self._now, self._ready = outbox, invitations, now, ready

    def collect(self) -> Iterator[Metric]:
        is_ready = self._ready()
        yield GaugeMetricFamily(f"{PREFIX}_ready", "1 when the database answers at this release's migration head "
                                "(and Redis, when configured), as /health/ready.", value=1 if is_ready else 0)
        if not is_ready:
            return
        depth, oldest = self._outbox()
        yield GaugeMetricFamily(f"{PREFIX}_mail_outbox_depth", "Messages queued in the outbox, not yet sent.", value=depth)
        age = max((self._now() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
        yield GaugeMetricFamily(f"{PREFIX}_mail_outbox_oldest_age_seconds",
                                "Age of the oldest queued message (0 when none waits).", value=age)
        states = GaugeMetricFamily(f"{PREFIX}_invitations", "Invitations, by state.", labels=["state"])
        for state, count in sorted(self._invitations().items()):
            states.add_metric([state], count)
        yield states


def scrape(database: DatabaseGauges) -> bytes:
    """The text exposition: every worker process's metrics, then the database gauges."""
    registry = CollectorRegistry()
    if is_multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessCollector())
    registry.register(database)
    return generate_latest(registry)
