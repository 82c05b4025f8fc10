"""`idp worker`: the one long-running background process (issue 15).

It sends the mail outbox (idp.mail.delivery.deliver, the same function the request workers'
sender threads and `idp mail send-pending` use), sends back-channel logout tokens to relying
parties and notices sessions that expired (idp.logout.delivery, issue 14), and deletes expired rows every
WORKER_PRUNE_INTERVAL seconds (idp.ops.services.PruneService). Several workers on several
hosts are safe on PostgreSQL: mail is claimed row by row with FOR UPDATE SKIP LOCKED, and
pruning deletes only rows nobody can use any more. On SQLite run one.

SIGTERM or SIGINT stops it cleanly: the message being sent (or the batch being deleted) is
finished and committed, then the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from flask import Flask

from idp.context import app_context
from idp.extensions import db
from idp.logout.delivery import deliver_logouts, notice_expired_sessions
from idp.mail.delivery import deliver
from idp.ops.services import PruneService

log = logging.getLogger(__name__)
BATCH = 100  # messages per deliver() call
# Seconds between two looks for sessions that expired unnoticed (a scan of the live sessions):
# their relying parties hear of it within this long.
EXPIRY_CHECK_INTERVAL = 30.0


class Worker:
    """Runs `jobs` ("mail", "logout", "prune") until stop() is called or a signal arrives."""

    def __init__(self, app: Flask, *, jobs: tuple[str, ...] = ("mail", "logout", "prune"),
                 interval: float | None = None,
                 report: Callable[[str], None] | None = None):
        self.app = app
        self.jobs = jobs
        settings = app.extensions["idp"].settings
        self.interval = float(interval if interval is not None else settings.WORKER_INTERVAL)
        self.prune_interval = float(settings.WORKER_PRUNE_INTERVAL)
        self.report = report or log.info
        self._stopping = threading.Event()
        self._last_prune = float("-inf")
        self._last_expiry_check = float("-inf")

    def stop(self, *_args) -> None:
        self._stopping.set()

    @property
    def is_stopping(self) -> bool:
        return self._stopping.is_set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self) -> None:
        self.report(f"worker started: {', '.join(self.jobs)}")
        while not self.is_stopping:
            self.run_once()
            self.pause(self.interval)
        self.report("worker stopped")

    def pause(self, seconds: float) -> None:
        """Wait between passes; a stop request ends the wait at once."""
        self._stopping.wait(seconds)

    def run_once(self) -> None:
        """One pass: send what is due, and prune when it is time. A failure (the database
        is down, a bug) is logged; the next pass tries again."""
        if "mail" in self.jobs:
            self._guarded("sending mail", self._send)
        if "logout" in self.jobs:
            # Before pruning: a session that expired is noticed (and its relying parties
            # told) before its row may be deleted.
            if time.monotonic() - self._last_expiry_check >= EXPIRY_CHECK_INTERVAL:
                self._last_expiry_check = time.monotonic()
                self._guarded("noticing expired sessions", notice_expired_sessions)
            self._guarded("sending logout tokens", self._send_logouts)
        if "prune" in self.jobs and time.monotonic() - self._last_prune >= self.prune_interval:
            self._last_prune = time.monotonic()
            self._guarded("pruning", self.prune)

    def _send(self) -> None:
        while not self.is_stopping:
            sent, failed = deliver(stop=lambda: self.is_stopping, limit=BATCH)
            if sent or failed:
                self.report(f"sent {sent}, failed {failed}")
            # A full batch sent: look again at once. A failure may be the relay down:
            # wait for the next pass rather than try every message against it.
            if failed or sent < BATCH:
                return

    def _send_logouts(self) -> None:
        while not self.is_stopping:
            delivered, missed = deliver_logouts(stop=lambda: self.is_stopping, limit=BATCH)
            if delivered or missed:
                self.report(f"logout tokens delivered {delivered}, not delivered {missed}")
            if missed or delivered < BATCH:
                return

    def prune(self) -> dict[str, int]:
        """Delete expired rows, one batch per statement and commit; returns rows per table."""
        settings = app_context().settings
        service = PruneService(db.session, settings, app_context().clock)
        deleted: dict[str, int] = {}
        for rule in service.rules():
            while not self.is_stopping:
                count = service.prune_batch(rule, settings.WORKER_PRUNE_BATCH)
                db.session.commit()
                deleted[rule.name] = deleted.get(rule.name, 0) + count
                if count < settings.WORKER_PRUNE_BATCH:
                    break
        if any(deleted.values()):
            self.report("pruned " + ", ".join(f"{name} {count}" for name, count in deleted.items() if count))
        return deleted

    def _guarded(self, what: str, job: Callable[[], object]) -> None:
        with self.app.app_context():
            try:
                job()
            except Exception as error:  # keep working: the database may come back
                db.session.rollback()
                log.warning("%s failed (%s: %s); trying again next pass", what, type(error).__name__, error,
                            exc_info=True)
            finally:
                db.session.remove()
