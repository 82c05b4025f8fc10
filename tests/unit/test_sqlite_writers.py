"""SQLite writers of one process queue in Python for the write lock (idp.sqlite_writers)."""

from __future__ import annotations

import fcntl
import gc
import multiprocessing
import os
import sqlite3
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from idp.db import engine_options
from idp.sqlite_writers import QueuedWritersConnection, is_writing, writer_lock

# The production default of DATABASE_LOCK_TIMEOUT_MS, in seconds.
TIMEOUT = 0.25


def connect(path, factory=QueuedWritersConnection, timeout: float = TIMEOUT) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=timeout, factory=factory, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "writers.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
        setup.execute("INSERT INTO counter VALUES (1, 0)")
    return path


def hammer(path, factory, threads: int = 16, transactions: int = 15, timeout: float = 1.0) -> list[str]:
    """Many threads, each with its own connection, each writing short transactions at once
    (as granian's threads do): the errors they met. The timeout leaves room for a busy CI
    machine; the benchmark measures the effect under the production 250 ms (docs/performance.md)."""
    errors: list[str] = []
    start = threading.Barrier(threads)

    def work():
        connection = connect(path, factory, timeout)
        start.wait()
        for _ in range(transactions):
            try:
                connection.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
                connection.execute("SELECT n FROM counter").fetchone()
                time.sleep(0.001)  # the rest of a request's work inside its transaction
                connection.commit()
            except sqlite3.OperationalError as error:
                errors.append(str(error))
                connection.rollback()
        connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_only_writing_statements_queue():
    assert is_writing("  update counter set n = 1") and is_writing("INSERT INTO t VALUES (1)")
    assert not is_writing("SELECT 1") and not is_writing("PRAGMA journal_mode")


def test_writers_of_one_process_all_get_through_in_turn(database):
    errors = hammer(database, QueuedWritersConnection)
    assert errors == []
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT n FROM counter").fetchone() == (16 * 15,)


def test_reading_never_waits_for_a_writer(database):
    writer, reader = connect(database), connect(database)
    writer.execute("UPDATE counter SET n = 5 WHERE id = 1")
    started = time.monotonic()
    assert reader.execute("SELECT n FROM counter").fetchone() == (0,)  # WAL: the last committed value
    assert time.monotonic() - started < 0.05
    writer.commit()


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_the_lock_is_given_back_when_the_transaction_ends(database, end):
    first, second = connect(database), connect(database)
    first.execute("UPDATE counter SET n = 1 WHERE id = 1")
    getattr(first, end)()
    second.execute("UPDATE counter SET n = 2 WHERE id = 1")  # at once: no wait, no error
    second.commit()


def test_a_writer_that_keeps_the_lock_too_long_is_database_is_locked(database):
    """What the 503 "try again" answers (idp.web.errors), after the same timeout as before."""
    holder, waiter = connect(database), connect(database)
    holder.execute("UPDATE counter SET n = 1 WHERE id = 1")
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        waiter.execute("UPDATE counter SET n = 2 WHERE id = 1")
    assert TIMEOUT <= time.monotonic() - started < TIMEOUT + 0.2
    holder.rollback()
    waiter.execute("UPDATE counter SET n = 2 WHERE id = 1")
    waiter.commit()


def test_a_connection_collected_mid_transaction_gives_the_lock_back(database):
    forgotten = connect(database)
    forgotten.execute("UPDATE counter SET n = 1 WHERE id = 1")
    del forgotten
    gc.collect()  # sqlite3's statement cache holds the connection in a cycle
    survivor = connect(database)
    survivor.execute("UPDATE counter SET n = 2 WHERE id = 1")
    survivor.commit()


def test_passerelle_s_engine_queues_its_writers_and_the_pool_gives_the_lock_back(database):
    engine = create_engine(f"sqlite:///{database}", **engine_options(f"sqlite:///{database}", {}, 250))
    with engine.connect() as first:
        assert isinstance(first.connection.dbapi_connection, QueuedWritersConnection)
        first.execute(text("UPDATE counter SET n = 1 WHERE id = 1"))
        # leaves without committing: the pool's reset on return rolls back
    with engine.connect() as second:
        second.execute(text("UPDATE counter SET n = 2 WHERE id = 1"))
        second.commit()
        assert second.execute(text("PRAGMA journal_mode")).scalar() == "wal"  # idp.db's pragmas still run
    engine.dispose()


def other_process_turn(database):
    """The lock file as another process opens it (an open file of its own, so its own flock)."""
    fd = os.open(f"{os.path.realpath(database)}-writers", os.O_RDWR | os.O_CREAT, 0o600)
    return fd


def test_a_writer_waits_for_the_other_process_s_turn_then_takes_it(database):
    other = other_process_turn(database)
    fcntl.flock(other, fcntl.LOCK_EX)
    writer = connect(database)
    done = threading.Event()

    def write():
        writer.execute("UPDATE counter SET n = 7 WHERE id = 1")
        writer.commit()
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert not done.wait(0.1)  # the other process writes
    fcntl.flock(other, fcntl.LOCK_UN)
    assert done.wait(1)  # looked again within a millisecond, not after SQLite's back-off
    thread.join()
    os.close(other)


def test_the_other_process_s_turn_kept_too_long_is_database_is_locked(database):
    other = other_process_turn(database)
    fcntl.flock(other, fcntl.LOCK_EX)
    waiter = connect(database)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        waiter.execute("UPDATE counter SET n = 2 WHERE id = 1")
    assert TIMEOUT <= time.monotonic() - started < TIMEOUT + 0.2
    fcntl.flock(other, fcntl.LOCK_UN)
    os.close(other)
    # Nothing was left held in this process: the next writer goes at once.
    waiter.execute("UPDATE counter SET n = 2 WHERE id = 1")
    waiter.commit()


def test_the_turn_is_given_back_with_the_transaction(database):
    writer = connect(database)
    writer.execute("UPDATE counter SET n = 3 WHERE id = 1")
    other = other_process_turn(database)
    with pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    writer.commit()
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once committed
    os.close(other)


def _hammer_in_a_process(path, results):
    results.put(hammer(path, QueuedWritersConnection, threads=6, transactions=20))


def test_two_processes_of_writers_all_get_through(database):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=_hammer_in_a_process, args=(str(database), results)) for _ in range(2)]
    for process in processes:
        process.start()
    errors = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(10)
    assert errors == [[], []]
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT n FROM counter").fetchone() == (2 * 6 * 20,)


def test_a_forked_process_gets_a_queue_and_lock_file_of_its_own(database):
    mine = writer_lock(database)
    assert writer_lock(database) is mine
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write, b"1" if writer_lock(database) is not mine else b"0")
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 1) == b"1"
    os.close(read)
    os.close(write)


def test_a_forked_child_closes_the_parent_s_turn_file(database):
    """Were the parent to die holding the turn, a child's copy of its open file would keep
    it held for every process."""
    writer = connect(database)
    writer.execute("UPDATE counter SET n = 4 WHERE id = 1")  # the parent holds the turn
    parent_fd = writer_lock(database).processes._fd
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.fstat(parent_fd)
            os.write(write, b"0")
        except OSError:
            os.write(write, b"1")
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 1) == b"1"
    writer.commit()
    os.close(read)
    os.close(write)


def test_without_a_turn_file_sqlite_alone_orders_the_processes(database, monkeypatch, caplog):
    from idp import sqlite_writers

    real_open = os.open

    def refused(path, *args, **kwargs):
        if str(path).endswith("-writers"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(sqlite_writers.os, "open", refused)
    monkeypatch.setattr(sqlite_writers, "_queues", {})
    writer = connect(database)
    writer.execute("UPDATE counter SET n = 9 WHERE id = 1")
    writer.commit()
    assert "no writers' turn file" in caplog.text
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT n FROM counter").fetchone() == (9,)
