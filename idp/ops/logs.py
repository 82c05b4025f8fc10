"""Structured logs: one JSON object per line, each carrying the request id (issue 15).

The standard library's logging with a JSON formatter of our own: no dependency, and every
library's records (Flask, SQLAlchemy, granian's Python side) go through the same handler.
The request id lives in a context variable, not in Flask's `g`, so that services
(idp.audit.record_event) read it without importing Flask.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The id of the request being served in this thread, or None outside a request.
REQUEST_ID: ContextVar[str | None] = ContextVar("passerelle_request_id", default=None)
# A request id we accept from X-Request-Id: what proxies make (UUIDs, hex, base64url), never
# free text that could forge a log line or carry personal data.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
LOG_FORMATS = ("text", "json")

# Attributes every LogRecord has: anything else on a record came from `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message", "request_id", extras..., "exception"} per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = record.request_id if hasattr(record, "request_id") else REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _PasserelleHandler(logging.StreamHandler):
    """The one handler configure() installs, recognised so it is installed once per process."""


def _stamp_request_id(factory):
    """A record factory that notes the request id when the record is made, in the thread
    that made it: handlers may format it later or elsewhere."""

    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    make_record.stamps_request_id = True  # type: ignore[attr-defined]
    return make_record


def configure(log_format: str, level: str) -> None:
    """With "json", every record of the process goes to standard error as one JSON line at
    `level` or above. With "text", logging is left as the server configured it."""
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if isinstance(handler, _PasserelleHandler)]
    if log_format != "json":
        for handler in ours:  # an app built earlier in this process wanted JSON
            root.removeHandler(handler)
            root.setLevel(handler.previous_level)
        return
    if not getattr(logging.getLogRecordFactory(), "stamps_request_id", False):
        logging.setLogRecordFactory(_stamp_request_id(logging.getLogRecordFactory()))
    if ours:
        handler = ours[0]
    else:
        handler = _PasserelleHandler(sys.stderr)
        handler.previous_level = root.level
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter())
    root.setLevel(level.upper())


def request_id_from(header: str | None, make) -> str:
    """The caller's X-Request-Id if it looks like one, else a new one from make()."""
    if header and VALID_REQUEST_ID.fullmatch(header):
        return header
    return make()
