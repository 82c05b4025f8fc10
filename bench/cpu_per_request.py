#!/usr/bin/env python3
"""CPU time per request of each endpoint, in-process; optionally against another source tree.

    python bench/cpu_per_request.py                          # every endpoint, 7 rounds x 300 requests
    python bench/cpu_per_request.py --endpoints code_exchange,refresh --rounds 9
    git worktree add --detach /tmp/before HEAD~3
    python bench/cpu_per_request.py --against /tmp/before    # A/B: this tree against that one

Same set-up as bench/profile_passerelle.py (fresh SQLite, ENV=production, the bench client and
user, values minted by bench/passerelle_seed.py), in a worker process per source tree (the tree
is put first on PYTHONPATH). Each round sends N requests to every endpoint through Flask's test
client, one at a time, and reads the worker's CPU time (`time.process_time`, user + system)
around them. With --against, the two workers take turns (A B, then B A in the next round), so
both see the same background load: on a machine shared with other test suites CPU time per
request still moves by 20-30 % from one minute to the next, far more than between rounds run
back to back. Prints the median and the lowest round per endpoint, and the ratio of medians.
Codes and refresh tokens are minted by this tree's bench/passerelle_seed.py (its models) in
both workers: compare trees whose codes and tokens tables are the same.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (bench/run.py: the same set-up as the load benchmark)

READY = "CPU-WORKER-READY"


# Rows that need a real server and mail (bench/run.py measures them): not in-process.
NOT_IN_PROCESS = ("signin",)


def access_token(server, client, headers: dict[str, str], tmp: Path) -> str:
    """One access token for the UserInfo and introspection rows, from a minted code."""
    out = tmp / "bearer-code.txt"
    server.mint("code", 1, out)
    prefix, suffix = run.token_body("code_exchange")
    resp = client.post("/token", data=prefix + out.read_text().split()[0] + suffix, headers=headers,
                       content_type="application/x-www-form-urlencoded")
    if resp.status_code != 200:
        raise SystemExit(f"access token: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
    return resp.get_json()["access_token"]


def worker(endpoints: list[str], total: int, warmup: int) -> int:
    """Set up, warm up, then answer "endpoint count" lines on stdin with "cpu_ms" lines."""
    tmp = Path(tempfile.mkdtemp(prefix="passerelle-cpu-"))
    try:
        server = run.PasserelleServer("granian", sys.executable, [], 1, 3600, tmp, dict(os.environ), None, "production",
                                     smtp_port=run.free_port(), people=0)  # in-process: no server, no sign-ins
        server.secrets = run.instance_secrets()
        server.prepare(run.free_port())
        os.environ.update(server.env)
        for key in [k for k in os.environ if k.startswith("IDP_") and k not in server.env]:
            del os.environ[key]
        from idp import create_app

        app = create_app()
        client = app.test_client()
        headers = {"Authorization": "Basic " + server.auth}
        values: dict[str, list[str]] = {}
        for endpoint in endpoints:
            if endpoint in run.MINTED:
                out = tmp / f"{endpoint}.txt"
                server.mint(run.MINTED[endpoint], warmup + total, out)
                values[endpoint] = out.read_text().split()
        used = dict.fromkeys(endpoints, 0)
        bearer = access_token(server, client, headers, tmp) if set(endpoints) & set(run.BEARER) else ""

        def one(endpoint: str) -> None:
            if endpoint in ("discovery", "jwks"):
                resp = client.get("/jwks" if endpoint == "jwks" else "/.well-known/openid-configuration")
            elif endpoint == "userinfo":
                resp = client.get("/userinfo", headers={"Authorization": f"Bearer {bearer}"})
            elif endpoint == "introspection":
                resp = client.post("/introspect", data=run.token_body(endpoint, bearer)[0], headers=headers,
                                   content_type="application/x-www-form-urlencoded")
            else:
                prefix, suffix = run.token_body(endpoint)
                value = values[endpoint][used[endpoint]] if endpoint in values else ""
                resp = client.post("/token", data=prefix + value + suffix, headers=headers,
                                   content_type="application/x-www-form-urlencoded")
            used[endpoint] += 1
            if resp.status_code != 200:
                raise SystemExit(f"{endpoint}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")

        for endpoint in endpoints:
            for _ in range(warmup):
                one(endpoint)
        print(READY, flush=True)
        for line in sys.stdin:
            endpoint, count = line.split()
            started = time.process_time()
            for _ in range(int(count)):
                one(endpoint)
            print(f"{1000 * (time.process_time() - started) / int(count):.4f}", flush=True)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Worker:
    def __init__(self, tree: Path, endpoints: list[str], total: int, warmup: int):
        self.tree = tree
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(tree), os.environ.get("PYTHONPATH"))))}
        argv = [sys.executable, __file__, "--worker", "--endpoints", ",".join(endpoints), "--total", str(total),
                "--warmup", str(warmup)]
        self.proc = subprocess.Popen(argv, env=env, cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for line in self.proc.stdout:
            if line.strip() == READY:
                return
        raise SystemExit(f"the worker for {tree} stopped before it was ready ({self.proc.wait()})")

    def measure(self, endpoint: str, count: int) -> float:
        self.proc.stdin.write(f"{endpoint} {count}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the worker for {self.tree} stopped ({self.proc.wait()})")
        return float(line)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", default=",".join(e for e in run.ENDPOINTS if e not in NOT_IN_PROCESS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=300, help="per endpoint and round")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--against", type=Path, help="another source tree (e.g. a git worktree) to compare with")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--total", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    endpoints = [name for name in args.endpoints.split(",") if name]
    unknown = [name for name in endpoints if name not in run.ENDPOINTS or name in NOT_IN_PROCESS]
    if unknown:
        parser.error(f"unknown endpoint {unknown[0]!r}; choose from {', '.join(run.ENDPOINTS)}")
    if args.worker:
        return worker(endpoints, args.total, args.warmup)

    trees = [run.ROOT] + ([args.against.resolve()] if args.against else [])
    total = args.rounds * args.requests
    workers = []
    try:
        for tree in trees:
            workers.append(Worker(tree, endpoints, total, args.warmup))
        samples = {(w.tree, e): [] for w in workers for e in endpoints}
        for round_number in range(args.rounds):
            for endpoint in endpoints:
                for w in (workers if round_number % 2 == 0 else workers[::-1]):
                    samples[w.tree, endpoint].append(w.measure(endpoint, args.requests))
    finally:
        for w in workers:
            w.close()
    print(f"\nCPU ms per request, in-process, {args.rounds} rounds x {args.requests} requests per endpoint")
    for w in workers:
        print(f"\n{w.tree}\n{'endpoint':<20} {'median':>7} {'lowest':>7}  rounds")
        for endpoint in endpoints:
            ms = samples[w.tree, endpoint]
            print(f"{endpoint:<20} {statistics.median(ms):7.2f} {min(ms):7.2f}  {' '.join(f'{v:.2f}' for v in ms)}")
    if len(workers) == 2:
        a, b = (w.tree for w in workers)
        print(f"\nratio of medians {a.name} / {b.name}")
        for endpoint in endpoints:
            ratio = statistics.median(samples[a, endpoint]) / statistics.median(samples[b, endpoint])
            print(f"{endpoint:<20} {ratio:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
