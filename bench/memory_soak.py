#!/usr/bin/env python3
"""Memory soak: one Passerelle granian worker, one endpoint at a time, RSS sampled as it serves.

    nice -n 10 .venv/bin/python bench/memory_soak.py                     # every endpoint, 100k requests each
    nice -n 10 .venv/bin/python bench/memory_soak.py --endpoints client_credentials --requests 30000
    nice -n 10 .venv/bin/python bench/memory_soak.py --probe --tracemalloc 10   # where the memory goes
    nice -n 10 .venv/bin/python bench/memory_soak.py --granian-set GRANIAN_BLOCKING_THREADS=8 ...

The set-up is bench/run.py's (PasserelleServer: a fresh SQLite database or --database-url,
ENV=production, random secrets, the bench client and user, config/granian.env as committed
with --granian-set's changes), with 1 worker. Each endpoint is then driven with bench/run.py's
wrk runs (--connections connections) in chunks of about --sample-every requests until
--requests have been served (the signin row: whole sign-ins by --signin-concurrency walkers,
with a loopback mail sink, counted in HTTP requests), and after each chunk the worker's RSS is
read from /proc. The
table at the end gives, per endpoint, the RSS before it, after its first chunk and at its end,
and the growth over the second half of its requests (the part a warm-up cannot explain).

--probe puts bench/memory_probe/ on the server's PYTHONPATH: its sitecustomize.py answers
through files (no route is added to the app) with glibc's view (mallinfo2: held, in use, free),
Python's (allocated blocks, objects by type) and the thread count, and --trim asks it to call
malloc_trim(0) at the end of each endpoint: RSS that disappears then was freed memory glibc
kept. --tracemalloc N traces Python allocations with N frames and prints the allocation sites
that grew most over each endpoint's second half.

Results go to var/bench/memory-soak.json. Only 127.0.0.1 is contacted; the server is stopped
on exit, error, Ctrl-C or SIGTERM (bench/run.py's Processes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run

PROBE = BENCH / "memory_probe"
SOAK_ENDPOINTS = run.ENDPOINTS  # signin: whole sign-ins (bench/signin_flow.py), counted in HTTP requests


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", default=",".join(SOAK_ENDPOINTS), help=f"in this order, from {','.join(SOAK_ENDPOINTS)}")
    parser.add_argument("--requests", type=int, default=100_000, help="requests per endpoint (default 100,000)")
    parser.add_argument("--sample-every", type=int, default=10_000, help="about this many requests between samples")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--signin-concurrency", type=int, default=8, help="sign-ins walked at once (default 8)")
    parser.add_argument("--granian-set", action="append", default=[], metavar="NAME=VALUE",
                        help="change one setting of config/granian.env (repeatable), e.g. MALLOC_ARENA_MAX=1")
    parser.add_argument("--database-url", help="Passerelle database (default: SQLite in a temporary directory)")
    parser.add_argument("--probe", action="store_true", help="glibc and Python counters from inside the worker")
    parser.add_argument("--trim", action="store_true", help="with --probe: malloc_trim(0) at the end of each endpoint")
    parser.add_argument("--tracemalloc", type=int, default=0, metavar="FRAMES",
                        help="with --probe: trace Python allocations, print the sites that grew most")
    parser.add_argument("--top", type=int, default=8, help="allocation sites printed per endpoint (default 8)")
    parser.add_argument("--json-out", default=str(run.ROOT / "var" / "bench" / "memory-soak.json"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database, probe files)")
    args = parser.parse_args(argv)
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    if set(args.endpoints) - set(SOAK_ENDPOINTS):
        parser.error(f"--endpoints: a subset of {','.join(SOAK_ENDPOINTS)}")
    if args.tracemalloc or args.trim:
        args.probe = True
    if not 1_000 <= args.requests <= 5_000_000 or args.sample_every < 100:
        parser.error("--requests 1,000 to 5,000,000 and --sample-every >= 100")
    try:
        args.granian_changes = run.parse_assignments(args.granian_set)
    except ValueError as err:
        parser.error(f"--granian-set: {err}")
    return args


class Probe:
    """The worker's memory as its own sitecustomize probe reports it (bench/memory_probe)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seq = 0

    def ask(self, pid: int, trim: bool = False, timeout: float = 60) -> dict[str, Any]:
        self.seq += 1
        stamp = f"{self.seq:04d}"
        (self.folder / f"{stamp}.req").write_text("trim" if trim else "")
        answer = self.folder / f"{stamp}-{pid}.json"
        deadline = time.monotonic() + timeout
        while not answer.exists():
            if time.monotonic() > deadline:
                raise run.BenchError(f"the memory probe of worker {pid} did not answer in {timeout:.0f}s")
            time.sleep(0.1)
        data = json.loads(answer.read_text())
        data["snapshot"] = str(self.folder / f"{stamp}-{pid}.tracemalloc")
        return data


def worker_pid(server: run.Server) -> int:
    sizes = run.group_rss_kib(server.proc.pid)
    workers = [pid for pid in sizes if pid != server.proc.pid]
    if len(workers) != 1:
        raise run.BenchError(f"expected 1 granian worker, found {len(workers)}: {sorted(sizes)}")
    return workers[0]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    raise run.BenchError(f"no VmRSS for {pid}")


def probe_line(data: dict[str, Any]) -> str:
    if "error" in data:
        return f"probe error: {data['error']}"
    g, st, py = data.get("glibc", {}), data["status_kib"], data["python"]
    mib = 1024 * 1024
    parts = [f"anon {st.get('RssAnon', 0) / 1024:.0f}", f"file {st.get('RssFile', 0) / 1024:.0f}",
             f"threads {st.get('Threads')}"]
    if g:
        parts.append(f"glibc held {(g['arena'] + g['hblkhd']) / mib:.1f} used {(g['uordblks'] + g['hblkhd']) / mib:.1f} "
                     f"free {g['fordblks'] / mib:.1f}")
    parts.append(f"py blocks {py['allocated_blocks']:,} objects {py['gc_objects']:,}")
    if "tracemalloc" in data:
        parts.append(f"traced {data['tracemalloc']['current'] / mib:.1f}")
    if "trim" in data:
        parts.append(f"malloc_trim {data['trim']['rss_before_kib'] / 1024:.1f} -> {data['trim']['rss_after_kib'] / 1024:.1f}")
    return "MB: " + ", ".join(parts)


def grown_sites(first: str, last: str, top: int) -> list[str]:
    """The allocation sites that grew most between two tracemalloc snapshots."""
    try:
        before, after = tracemalloc.Snapshot.load(first), tracemalloc.Snapshot.load(last)
    except OSError:
        return []
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
              tracemalloc.Filter(False, str(PROBE / "*"))]
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "traceback")
    lines = []
    for stat in sorted(stats, key=lambda s: s.size_diff, reverse=True)[:top]:
        if stat.size_diff <= 0:
            break
        frames = [f"{Path(f.filename).name}:{f.lineno}" for f in stat.traceback][-4:]
        lines.append(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  " + " < ".join(reversed(frames)))
    return lines


def soak_endpoint(bench: run.Bench, server: run.PasserelleServer, endpoint: str, args: argparse.Namespace,
                  probe: Probe | None, pid: int) -> dict[str, Any]:
    run.preflight(server, endpoint)
    if endpoint in server.skipped:
        run.log(f"{endpoint}: NOT MEASURED: {server.skipped[endpoint]}")
        return {"endpoint": endpoint, "skipped": server.skipped[endpoint]}
    samples: list[dict[str, Any]] = []

    def sample(served: int, rps: float = 0.0, cpu: float = 0.0, trim: bool = False) -> None:
        entry: dict[str, Any] = {"requests": served, "rss_mb": rss_mb(pid), "rps": round(rps), "cpu_ms": round(cpu, 3)}
        line = f"  {endpoint:18} {served:>9,} requests  RSS {entry['rss_mb']:6.1f} MB"
        if rps:
            line += f"  {rps:7.0f} req/s  cpu {cpu:5.2f} ms/req"
        if probe is not None:
            entry["probe"] = probe.ask(pid, trim=trim)
            line += "\n" + " " * 22 + probe_line(entry["probe"])
        samples.append(entry)
        run.log(line)

    sample(0)
    served, rate = 0, 0.0
    while served < args.requests:
        # About --sample-every requests per chunk at the rate seen so far (2 s first), 1 to 60 s.
        seconds = min(60.0, max(1.0, args.sample_every / rate)) if rate else 2.0
        result = bench.measure(server, endpoint, seconds, len(samples))
        if not result.valid:
            run.log(f"  {endpoint}: INVALID chunk: {result.note}")
        chunk = result.http_requests or result.requests  # a sign-in is ~10 HTTP requests
        served += chunk
        rps = chunk / seconds
        rate = rps or rate
        sample(served, rps, result.cpu_ms_per_req * result.requests / chunk if chunk else 0.0)
    if args.trim:
        sample(served, trim=True)
    first, last = samples[1]["rss_mb"], samples[-1]["rss_mb"]
    half = next(s for s in samples if s["requests"] >= served / 2)
    summary = {
        "endpoint": endpoint, "requests": served, "rss_before_mb": samples[0]["rss_mb"], "rss_first_chunk_mb": first,
        "rss_half_mb": half["rss_mb"], "rss_end_mb": last,
        "second_half_growth_mb": round(last - half["rss_mb"], 1),
        "second_half_requests": served - half["requests"],
        "samples": samples,
    }
    if args.tracemalloc and "probe" in half and "probe" in samples[-1]:
        summary["grown_sites"] = grown_sites(half["probe"]["snapshot"], samples[-1]["probe"]["snapshot"], args.top)
        run.log(f"  {endpoint}: Python allocation sites that grew most over the second half:")
        for line in summary["grown_sites"] or ["(none grew)"]:
            run.log("    " + line)
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    procs = run.Processes()
    tmp = Path(tempfile.mkdtemp(prefix="passerelle-soak-"))
    results: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        python = run.pick_python()
        changes = dict(args.granian_changes)
        probe = None
        if args.probe:
            folder = tmp / "probe"
            folder.mkdir()
            probe = Probe(folder)
            # granian's environment only (not idp db upgrade's or the seeding's).
            changes["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROBE), os.environ.get("PYTHONPATH", "")) if p)
            changes["PASSERELLE_MEMPROBE_DIR"] = str(folder)
            if args.tracemalloc:
                changes["PASSERELLE_MEMPROBE_TRACEMALLOC"] = str(args.tracemalloc)
        # A code or refresh token minted now must still be valid when its chunk runs.
        sink = None
        if "signin" in args.endpoints:
            sink = run._SINK = run.SmtpSink().start()
        server = run.PasserelleServer("granian", python, run.granian_argv(python), 1, 600, tmp, dict(os.environ),
                                      args.database_url, "production", sink.port if sink else run.free_port(),
                                      3000 if sink else 0)
        server.secrets = run.instance_secrets()
        server.granian_changes = changes
        bench_args = argparse.Namespace(wrk_threads=1, connections=args.connections, max_mint=400_000, pause=0.2,
                                        verbose=False, signin_concurrency=args.signin_concurrency)
        bench = run.Bench(bench_args, tmp, 1, sink)
        run.log(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, granian changes "
                f"{args.granian_changes or 'none'}, probe {'on' if probe else 'off'}; logs in {tmp}")
        server.start(procs)
        pid = worker_pid(server)
        run.log(f"worker {pid}: RSS {rss_mb(pid)} MB after start-up")
        for endpoint in args.endpoints:
            results.append(soak_endpoint(bench, server, endpoint, args, probe, pid))
        print()
        print(f"RSS of the one granian worker (MB; goal < {run.RSS_GOAL_MB} and no growth), changes: "
              f"{args.granian_changes or 'none'}")
        print(f"{'endpoint':18} {'requests':>9} {'before':>7} {'1st chunk':>9} {'half':>7} {'end':>7} "
              f"{'2nd half':>9} {'req/s':>7} {'cpu ms':>7}")
        for r in results:
            if "skipped" in r:
                print(f"{r['endpoint']:18} skipped: {r['skipped']}")
                continue
            timed = [s for s in r["samples"] if s["rps"]]
            rps = sorted(s["rps"] for s in timed)[len(timed) // 2] if timed else 0
            cpu = sorted(s["cpu_ms"] for s in timed)[len(timed) // 2] if timed else 0
            print(f"{r['endpoint']:18} {r['requests']:>9,} {r['rss_before_mb']:>7.1f} {r['rss_first_chunk_mb']:>9.1f} "
                  f"{r['rss_half_mb']:>7.1f} {r['rss_end_mb']:>7.1f} {r['second_half_growth_mb']:>+9.1f} "
                  f"{rps:>7} {cpu:>7.3f}")
        out = Path(args.json_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, cwd=run.ROOT, capture_output=True,
                                     text=True).stdout.strip(),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load": os.getloadavg()},
            "settings": {k: v for k, v in vars(args).items() if k != "json_out"},
            "results": results,
        }, indent=2))
        run.log(f"results written to {out}; wall time {time.monotonic() - started:.0f}s")
        return 0
    except KeyboardInterrupt:
        run.log("interrupted: stopping the server")
        return 130
    except (run.BenchError, subprocess.TimeoutExpired) as err:
        run.log(f"error: {err}")
        return 1
    finally:
        procs.stop_all()
        if run._SINK is not None:
            run._SINK.stop()
        if args.keep:
            run.log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
