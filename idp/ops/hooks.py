"""Per-request plumbing of observability: the request id, the request metrics and one
structured log line per request (issue 15)."""

from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, Response, g, request

from idp.ops import logs, metrics

log = logging.getLogger("idp.request")
REQUEST_ID_HEADER = "X-Request-Id"


def init_app(app: Flask) -> None:
    settings = app.extensions["idp"].settings
    logs.configure(settings.LOG_FORMAT, settings.LOG_LEVEL)
    metrics.configure(client_labels=bool(settings.METRICS_CLIENT_LABELS))
    metrics.prepare_multiprocess_dir()
    # First of every hook, so that the id and the clock cover whatever the others do.
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.after_request(finish_request)
    app.teardown_request(end_request)


def start_request() -> None:
    g.request_started_at = time.perf_counter()
    request_id = new_request_id(request.headers.get(REQUEST_ID_HEADER))
    g.request_id = request_id
    g.request_id_token = logs.REQUEST_ID.set(request_id)


def new_request_id(presented: str | None) -> str:
    """The proxy's X-Request-Id when it is a valid one, else a new random id."""
    return logs.request_id_from(presented, lambda: uuid.uuid4().hex)


def finish_request(response: Response) -> Response:
    started = g.get("request_started_at")
    if started is None:  # the request failed before any hook ran
        return response
    response.headers[REQUEST_ID_HEADER] = g.request_id
    record_request(request.endpoint, request.method, response.status_code, time.perf_counter() - started)
    return response


def record_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """Count the request and write its log line; also called by the documents answered
    before Flask (idp.web.machine), with the request id set."""
    metrics.count_request(endpoint, method, status, seconds)
    # The endpoint, never the path or query string: they may carry codes and tokens.
    if log.isEnabledFor(logging.INFO):
        log.info("%s %s %s", method, endpoint or "-", status,
                 extra={"endpoint": endpoint, "method": method, "status": status,
                        "duration_ms": round(seconds * 1000, 1)})


def end_request(_error: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        logs.REQUEST_ID.reset(token)
