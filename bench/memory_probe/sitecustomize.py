"""Memory probe for bench/memory_soak.py: no route, no code in idp/.

bench/memory_soak.py puts this folder first on the PYTHONPATH of the granian server it starts
(and of nothing else), so Python imports this file at start-up in the granian process and,
through fork, in its worker. It does nothing unless PASSERELLE_MEMPROBE_DIR names a folder.
Then a daemon thread in each process watches that folder: for every request file `NNN.req`
that the soak writes, it writes `NNN-<pid>.json` with the process's memory as the kernel, glibc
and Python see it, and with PASSERELLE_MEMPROBE_TRACEMALLOC=<frames> also a tracemalloc
snapshot `NNN-<pid>.tracemalloc` (tracing starts at start-up). A request file whose first line
is `trim` also calls glibc's malloc_trim(0) and reports the RSS after it: how much of the
resident set was memory glibc had freed but kept.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import sys
import threading
import time
from collections import Counter

_DIR = os.environ.get("PASSERELLE_MEMPROBE_DIR")
_FRAMES = int(os.environ.get("PASSERELLE_MEMPROBE_TRACEMALLOC", "0") or 0)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        return libc
    except (OSError, AttributeError):
        return None


def _status_kib() -> dict[str, int]:
    found = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Threads"):
                found[name] = int(rest.split()[0])
    return found


def _measure(libc, trim: bool, stamp: str) -> dict:
    out: dict = {"pid": os.getpid(), "time": time.time(), "status_kib": _status_kib()}
    if libc is not None:
        info = libc.mallinfo2()
        # arena: heap bytes glibc got with brk/mmap for its arenas; uordblks: in use there;
        # fordblks: free there (kept); hblkhd: large blocks mmapped one by one.
        out["glibc"] = {name: getattr(info, name) for name, _ in _MallInfo2._fields_}
    out["python"] = {"allocated_blocks": sys.getallocatedblocks(), "threads": threading.active_count()}
    counts = Counter(type(obj).__name__ for obj in gc.get_objects())
    out["python"]["gc_objects"] = sum(counts.values())
    out["python"]["top_types"] = counts.most_common(25)
    if _FRAMES:
        import tracemalloc

        current, peak = tracemalloc.get_traced_memory()
        out["tracemalloc"] = {"current": current, "peak": peak}
        tracemalloc.take_snapshot().dump(os.path.join(_DIR, f"{stamp}-{os.getpid()}.tracemalloc"))
    if trim and libc is not None:
        before = _status_kib()["VmRSS"]
        libc.malloc_trim(0)
        out["trim"] = {"rss_before_kib": before, "rss_after_kib": _status_kib()["VmRSS"]}
    return out


def _watch() -> None:
    libc = _libc()
    done: set[str] = set()
    while True:
        try:
            names = sorted(n for n in os.listdir(_DIR) if n.endswith(".req") and n not in done)
        except OSError:
            return  # the soak removed its folder: stop
        for name in names:
            done.add(name)
            stamp = name[:-4]
            try:
                with open(os.path.join(_DIR, name)) as handle:
                    trim = handle.read().strip() == "trim"
                data = _measure(libc, trim, stamp)
            except Exception as error:  # noqa: BLE001  (reported to the soak, never to a request)
                data = {"pid": os.getpid(), "error": f"{type(error).__name__}: {error}"}
            path = os.path.join(_DIR, f"{stamp}-{os.getpid()}.json")
            with open(path + ".tmp", "w") as handle:
                json.dump(data, handle)
            os.replace(path + ".tmp", path)
        time.sleep(0.2)


def _start() -> None:
    threading.Thread(target=_watch, name="memory-probe", daemon=True).start()


if _DIR:
    if _FRAMES:
        import tracemalloc

        tracemalloc.start(_FRAMES)
    _start()
    os.register_at_fork(after_in_child=_start)  # granian forks its workers: the thread does not follow
