"""SQLite: the writers of one process queue for the database's write lock in Python.

SQLite has one write lock per database file. A writer that finds it taken waits in SQLite's
busy handler, which sleeps with a growing back-off (1, 2, 5, 10 ... 100 ms) instead of waking
when the lock frees. Under granian (up to 64 requests at once per worker) writers that each
hold the lock for well under a millisecond still ran out of DATABASE_LOCK_TIMEOUT_MS and
answered 503 (docs/performance.md). Queued on a lock of their own process instead, they wake
the moment the previous writer commits, in turn.

Between processes, the one writer a process lets through takes an flock on a file beside the
database (`<database>-writers`) before SQLite's lock, looking again every 50 us to 1 ms until
DATABASE_LOCK_TIMEOUT_MS: SQLite's back-off let the other process's writers, queued back to
back, keep the lock for tens of milliseconds (the writing rows' p99). The kernel frees an
flock when its process dies, so a crashed worker never holds the turn.

A connection takes its file's lock at its first writing statement and gives it back when its
transaction ends: commit, rollback (the pool's reset on return included) or close, and at the
latest when the connection itself is collected. Reading never takes it (WAL: readers never
wait for the writer).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections import deque

# Statements that take SQLite's write lock (sqlite3 opens the transaction before them).
WRITING_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")



class FifoLock:
    """A lock handed to its waiters in the order they came (threading.Lock is not fair: a
    writer could wait out its whole timeout while later ones got through)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._guard:
            if not self._held and not self._waiters:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            return True
        with self._guard:
            if turn.is_set():  # handed over as the wait ended
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        """Hand the lock to the first waiter (it stays held), or free it."""
        with self._guard:
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._held = False

    def locked(self) -> bool:
        return self._held


log = logging.getLogger(__name__)


class FileTurn:
    """The processes' turn at one database file: an flock on `<database>-writers`, taken
    only by the writer its process's FifoLock let through (so one open file per process
    serves every thread). Where the file cannot be made, SQLite alone arbitrates, as before."""

    FIRST_LOOK, LONGEST_LOOK = 0.00005, 0.001  # seconds between two looks

    def __init__(self, path: str):
        self.path = path + "-writers"
        self._fd: int | None = None
        self._unavailable = False

    def take(self, deadline: float) -> bool:
        if self._fd is None:
            if self._unavailable:
                return True
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as error:
                self._unavailable = True
                log.warning("no writers' turn file %s (%s): SQLite's busy handler alone orders the processes' "
                            "writers", self.path, error)
                return True
        pause = self.FIRST_LOOK
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, self.LONGEST_LOOK)

    def give_back(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def forget(self) -> None:
        """In a forked child: close the parent's open file. The child shares it, so were
        the parent to die holding the turn, the child's copy would keep it held."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class WriterQueue:
    """A database file's writers: in turn within the process, then in turn between processes."""

    def __init__(self, path: str):
        self.threads = FifoLock()
        self.processes = FileTurn(path)

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.threads.acquire(timeout):
            return False
        try:
            taken = self.processes.take(deadline)
        except BaseException:
            self.threads.release()
            raise
        if not taken:
            self.threads.release()
        return taken

    def release(self) -> None:
        try:
            self.processes.give_back()
        finally:
            self.threads.release()

    def locked(self) -> bool:
        return self.threads.locked()


_queues: dict[tuple[int, str], WriterQueue] = {}
_queues_guard = threading.Lock()


def writer_lock(database: str | bytes | os.PathLike) -> WriterQueue | None:
    """This process's queue for a database file; None for a database private to its
    connection (in memory) or named by a URI, which SQLite alone arbitrates. Keyed by the
    process too: a forked child must open its own lock file, or it would share its
    parent's flock."""
    name = os.fsdecode(database)
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    path = os.path.realpath(name)
    with _queues_guard:
        key = (os.getpid(), path)
        queue = _queues.get(key)
        if queue is None:
            queue = _queues[key] = WriterQueue(path)
        return queue


def _forget_the_parents_queues() -> None:
    global _queues_guard
    for queue in _queues.values():
        queue.processes.forget()
    _queues.clear()
    _queues_guard = threading.Lock()  # another thread may have held it at the fork


os.register_at_fork(after_in_child=_forget_the_parents_queues)


def is_writing(statement: str) -> bool:
    return statement.lstrip()[:7].upper().startswith(WRITING_STATEMENTS)


class _Hold:
    """Whether one connection holds its file's lock; shared with the connection's finalizer."""

    __slots__ = ("held", "lock")

    def __init__(self, lock: WriterQueue):
        self.lock, self.held = lock, False

    def take(self, timeout: float) -> None:
        if self.held:
            return
        if not self.lock.acquire(max(timeout, 0)):
            raise sqlite3.OperationalError("database is locked")  # as SQLite says it: a 503 (idp.web.errors)
        self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.lock.release()


class QueuedWritersConnection(sqlite3.Connection):
    """sqlite3's connection (`factory=` of sqlite3.connect) whose writers queue per process."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._wait = float(kwargs.get("timeout", args[0] if args else 5.0))
        lock = writer_lock(database)
        self._hold = _Hold(lock) if lock is not None else None
        if self._hold is not None:
            weakref.finalize(self, self._hold.give_back)

    def cursor(self, factory=None):
        return super().cursor(factory or QueuedWritersCursor)

    # sqlite3's shortcuts make a plain cursor of their own, past cursor() above.
    def execute(self, sql, parameters=(), /):
        self.before_statement(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        self.before_statement(sql)
        return super().executemany(sql, seq_of_parameters)

    def before_statement(self, statement: str) -> None:
        if self._hold is not None and not self._hold.held and is_writing(statement):
            self._hold.take(self._wait)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()

    def _give_back(self) -> None:
        if self._hold is not None:
            self._hold.give_back()


class QueuedWritersCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        self.connection.before_statement(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        self.connection.before_statement(sql)
        return super().executemany(sql, seq_of_parameters)
