#!/usr/bin/env python3
"""Load benchmark: Passerelle against node oidc-provider, plus the bare-Flask ceiling.

    python bench/run.py            # ~8-10 minutes: 3 interleaved rounds of 12 s per run
    python bench/run.py --quick    # ~2 minutes: 2 rounds of 3 s
    python bench/run.py --help     # every knob

What it does (docs/performance.md explains the method and the numbers):
  1. Starts three servers on loopback ports it picks itself, each with the same number of
     processes (--workers, default: the number of CPUs):
       passerelle     gunicorn 'idp:create_app()' on a fresh SQLite database in a temporary
                      directory (ENV=production, random secrets), after `idp db upgrade` and
                      `idp clients create ... --json`;
       oidc-provider  bench/node/server.js (node cluster module, oidc-provider's in-memory
                      adapter, same ES256 signing, same client and grants);
       flask-hello    bench/hello_app.py, one route, under the same gunicorn settings.
  2. Checks each endpoint once per server (status 200 and the expected JSON members); an
     endpoint a server does not answer correctly is reported and skipped for that server.
  3. Warms every server up, then runs rounds. In each round every endpoint is measured on
     Passerelle and on oidc-provider back to back (A B, then B A in the next round, so neither
     always goes first), with `wrk` (one thread, --connections connections, --duration seconds).
     Code exchange and refresh need a fresh single-use value per request: before each of those
     runs the harness mints enough of them for that server (Passerelle: bench/passerelle_seed.py
     writes rows with the provider's models; oidc-provider: server.js's bench-only control port).
  4. Prints, per endpoint, the median over rounds of req/s, p50 and p99 latency, server CPU
     time per request, and the ratio Passerelle / oidc-provider of req/s, then the Flask
     ceiling; writes everything to var/bench/last.json.

Everything it starts runs in its own process group and is stopped on exit, error, Ctrl-C or
SIGTERM; each child also gets SIGTERM from the kernel if this script dies (PR_SET_PDEATHSIG),
and wrk runs are bounded by -d and a subprocess timeout. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import hashlib
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
NODE_DIR = BENCH / "node"
WRK_LUA = BENCH / "wrk.lua"
LOOPBACK = "127.0.0.1"
REDIRECT_URI = "http://127.0.0.1:9/cb"  # never contacted: codes are minted, not redirected
CODE_VERIFIER = "bench-verifier-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
CODE_CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(CODE_VERIFIER.encode()).digest()).rstrip(b"=").decode()

ENDPOINTS = ("discovery", "jwks", "client_credentials", "code_exchange", "refresh")
MINTED = {"code_exchange": "code", "refresh": "refresh"}

P, N, H = "passerelle", "oidc-provider", "flask-hello"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------- processes


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when bench/run.py dies, however it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Processes:
    """Every long-running process this script starts, each the leader of its own group."""

    def __init__(self) -> None:
        self.items: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path, log_path: Path,
              stdin_pipe: bool = False) -> subprocess.Popen:
        handle = open(log_path, "ab")
        proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent,
        )
        handle.close()
        self.items.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for name, proc in reversed(self.items):
            if proc.poll() is not None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + 15
        for name, proc in reversed(self.items):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop on SIGTERM; killing its process group")
            # Reap stragglers of the group (workers) even when the leader is gone.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if proc.stdin:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
        self.items.clear()


def group_cpu_seconds(pgid: int) -> float:
    """User+system CPU of the live processes of one process group (a server and its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read().decode()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / ticks


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine (all CPUs, not idle or iowait) since boot."""
    with open("/proc/stat") as handle:
        fields = handle.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def http(method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 10) -> tuple[int, bytes]:
    host = urllib.parse.urlsplit(url).hostname
    if host != LOOPBACK:
        raise BenchError(f"refusing to contact {host}: loopback only")
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def wait_ready(name: str, url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{name} exited with {proc.returncode} while starting:\n{tail(log_path)}")
        try:
            status, _ = http("GET", url, timeout=2)
            if status == 200:
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise BenchError(f"{name} not ready after {timeout:.0f}s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def basic_auth(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: form-urlencode id and secret, then base64."""
    raw = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
    return base64.b64encode(raw.encode()).decode()


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    base: str = ""
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    auth: str = ""
    paths: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # endpoint -> why
    notes: dict[str, str] = field(default_factory=dict)  # endpoint -> response shape

    def mint(self, kind: str, count: int, out: Path) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def resolve_paths(self) -> None:
        status, body = http("GET", self.base + "/.well-known/openid-configuration")
        if status != 200:
            raise BenchError(f"{self.name}: discovery answered {status}: {body[:300]!r}")
        doc = json.loads(body)
        self.paths["discovery"] = "/.well-known/openid-configuration"
        for endpoint, member in (("jwks", "jwks_uri"), ("token", "token_endpoint")):
            url = doc.get(member)
            if not url:
                continue
            parts = urllib.parse.urlsplit(url)
            if parts.hostname != LOOPBACK:
                raise BenchError(f"{self.name}: {member} {url} is not on {LOOPBACK}; set the issuer to the bench port")
            self.paths[endpoint] = parts.path


def token_body(endpoint: str, value: str = "") -> tuple[str, str]:
    """(prefix, suffix) of the form body; the minted value goes between them."""
    if endpoint == "client_credentials":
        return "grant_type=client_credentials", ""
    if endpoint == "code_exchange":
        prefix = "grant_type=authorization_code&" + urllib.parse.urlencode(
            {"redirect_uri": REDIRECT_URI, "code_verifier": CODE_VERIFIER}) + "&code="
        return prefix, ""
    if endpoint == "refresh":
        return "grant_type=refresh_token&refresh_token=", ""
    raise ValueError(endpoint)


class NodeServer(Server):
    def __init__(self, workers: int, code_ttl: int, tmp: Path, env: dict[str, str]):
        super().__init__(N)
        self.workers, self.code_ttl, self.tmp, self.env = workers, code_ttl, tmp, env
        self.client_id = "bench-client"
        self.client_secret = secrets.token_urlsafe(32)
        self.auth = basic_auth(self.client_id, self.client_secret)

    def start(self, procs: Processes) -> None:
        ensure_node_modules()
        port, control = free_port(), free_port()
        self.base, self.control = f"http://{LOOPBACK}:{port}", f"http://{LOOPBACK}:{control}"
        self.log_path = self.tmp / "oidc-provider.log"
        argv = [
            "node", "server.js", "--port", str(port), "--control-port", str(control),
            "--workers", str(self.workers), "--client-id", self.client_id,
            "--client-secret", self.client_secret, "--redirect-uri", REDIRECT_URI,
            "--code-challenge", CODE_CHALLENGE, "--code-ttl", str(self.code_ttl),
        ]
        # stdin stays open: server.js exits when it closes, i.e. when this script goes away.
        self.proc = procs.start(self.name, argv, env=self.env, cwd=NODE_DIR, log_path=self.log_path, stdin_pipe=True)
        wait_ready(self.name, self.control + "/ready", self.proc, self.log_path)
        wait_ready(self.name, self.base + "/.well-known/openid-configuration", self.proc, self.log_path)
        self.resolve_paths()

    def mint(self, kind: str, count: int, out: Path) -> None:
        status, body = http("POST", f"{self.control}/mint?kind={kind}&count={count}", body=b"", timeout=300)
        if status != 200:
            raise BenchError(f"oidc-provider mint {kind} x{count}: {status} {body[:300]!r}")
        out.write_bytes(body)


class PasserelleServer(Server):
    def __init__(self, python: str, gunicorn: list[str], workers: int, code_ttl: int, tmp: Path,
                 env: dict[str, str], database_url: str | None, idp_env: str):
        super().__init__(P)
        self.python, self.gunicorn, self.workers, self.code_ttl, self.tmp = python, gunicorn, workers, code_ttl, tmp
        self.base_env, self.database_url, self.idp_env = env, database_url, idp_env
        self.user_id = 0

    def _idp(self, *args: str, timeout: float = 120) -> str:
        idp = Path(self.python).parent / "idp"
        argv = [str(idp), *args] if idp.exists() else [self.python, "-c", "from idp.cli import main; main()", *args]
        res = subprocess.run(argv, env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise BenchError(f"idp {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        return res.stdout

    def _seed(self, *args: str, timeout: float = 300) -> str:
        argv = [self.python, str(BENCH / "passerelle_seed.py"), *args]
        res = subprocess.run(argv, env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise BenchError(f"passerelle_seed.py {args[0]} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        return res.stdout

    def prepare(self, port: int) -> None:
        """A fresh database with the bench client and user; self.env then configures the app."""
        self.base = f"http://{LOOPBACK}:{port}"
        db_url = self.database_url or f"sqlite:///{self.tmp / 'passerelle.sqlite3'}"
        config = self.tmp / "passerelle.toml"
        config.write_text(f'ENV = "{self.idp_env}"\nINSTANCES = 1\nSESSION_COOKIE_SECURE = true\n')
        self.env = {k: v for k, v in self.base_env.items() if not k.startswith("IDP_")}
        self.env.update({
            "IDP_CONFIG": str(config),
            "IDP_OIDC_ISSUER": self.base,
            "IDP_SQLALCHEMY_DATABASE_URI": db_url,
            "IDP_SECRET_KEY": secrets.token_urlsafe(48),
            "IDP_SECRETS_HASH_KEY": secrets.token_urlsafe(48),
            "IDP_KEYS_ENCRYPTION_KEY": secrets.token_urlsafe(48),
            "IDP_OIDC_PAIRWISE_SALT": secrets.token_urlsafe(48),
        })
        log("passerelle: idp db upgrade")
        self._idp("db", "upgrade")
        log("passerelle: idp clients create")
        out = self._idp(
            "clients", "create", "--name", "bench", "--redirect-uri", REDIRECT_URI,
            "--grant-type", "client_credentials", "--grant-type", "authorization_code",
            "--grant-type", "refresh_token", "--json",
        )
        created = json.loads(out[out.index("{"):])
        self.client_id, self.client_secret = created["client_id"], created["client_secret"]
        self.auth = basic_auth(self.client_id, self.client_secret)
        self.user_id = int(json.loads(self._seed("user"))["user_id"])

    def start(self, procs: Processes) -> None:
        port = free_port()
        self.prepare(port)
        self.log_path = self.tmp / "passerelle.log"
        argv = [*self.gunicorn, "--bind", f"{LOOPBACK}:{port}", "--workers", str(self.workers), "idp:create_app()"]
        self.proc = procs.start(self.name, argv, env=self.env, cwd=ROOT, log_path=self.log_path)
        wait_ready(self.name, self.base + "/.well-known/openid-configuration", self.proc, self.log_path)
        self.resolve_paths()

    def mint(self, kind: str, count: int, out: Path) -> None:
        self._seed(
            "mint", "--kind", kind, "--count", str(count), "--client-id", self.client_id,
            "--user-id", str(self.user_id), "--redirect-uri", REDIRECT_URI,
            "--code-challenge", CODE_CHALLENGE, "--ttl", str(self.code_ttl), "--out", str(out),
        )


class HelloServer(Server):
    def __init__(self, python: str, gunicorn: list[str], workers: int, tmp: Path, env: dict[str, str]):
        super().__init__(H)
        self.gunicorn, self.workers, self.tmp, self.env = gunicorn, workers, tmp, env

    def start(self, procs: Processes) -> None:
        port = free_port()
        self.base = f"http://{LOOPBACK}:{port}"
        self.log_path = self.tmp / "flask-hello.log"
        argv = [*self.gunicorn, "--bind", f"{LOOPBACK}:{port}", "--workers", str(self.workers),
                "--pythonpath", str(BENCH), "hello_app:app"]
        env = {k: v for k, v in self.env.items() if not k.startswith("IDP_")}
        self.proc = procs.start(self.name, argv, env=env, cwd=ROOT, log_path=self.log_path)
        wait_ready(self.name, self.base + "/hello", self.proc, self.log_path)
        self.paths["hello"] = "/hello"


# --------------------------------------------------------------------------- tools


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: apt-get install wrk")
        cmd = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=False)
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
        found = shutil.which("wrk")
        if found:
            return found
    raise BenchError("wrk is required: install it with `apt-get install wrk` (Debian/Ubuntu)")


def ensure_node_modules() -> None:
    if not shutil.which("node") or not shutil.which("npm"):
        raise BenchError("node and npm are required for the oidc-provider side (or pass --skip-node)")
    stamp = NODE_DIR / "node_modules" / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    log("npm ci in bench/node")
    res = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                         capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        raise BenchError(f"npm ci failed:\n{res.stdout}\n{res.stderr}")


def pick_python() -> str:
    """The interpreter that has the provider installed: this one, else the repo's .venv."""
    probe = "import flask, gunicorn, idp"
    for candidate in (sys.executable, str(ROOT / ".venv" / "bin" / "python")):
        if Path(candidate).exists() and subprocess.run([candidate, "-c", probe], cwd=ROOT,
                                                       capture_output=True).returncode == 0:
            return candidate
    raise BenchError("no Python with flask, gunicorn and idp installed: run `make install` or use .venv/bin/python")


def gunicorn_argv(python: str, args: argparse.Namespace) -> list[str]:
    argv = [python, "-m", "gunicorn", "--error-logfile", "-"]
    conf = Path(args.gunicorn_config) if args.gunicorn_config else ROOT / "config" / "gunicorn.conf.py"
    if args.gunicorn_config or conf.exists():
        argv += ["--config", str(conf)]
    if args.worker_class:
        argv += ["--worker-class", args.worker_class]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    return argv


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    server: str
    endpoint: str
    round: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    exhausted: int
    cpu_ms_per_req: float
    wrk_cpu_pct: float
    other_cpu_pct: float  # CPU used meanwhile by processes other than the server and wrk
    valid: bool
    note: str = ""


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path):
        self.args, self.tmp = args, tmp
        self.wrk = ensure_wrk()
        self.runs: list[Run] = []
        self.rate: dict[tuple[str, str], float] = {}
        self.minted = 0

    def values_needed(self, server: Server, endpoint: str, seconds: float, boost: float = 1.0) -> int:
        """Enough single-use values for one run: a run that runs out is discarded, so err high.

        The estimate is this endpoint's best rate so far, at least half the client_credentials
        rate (a short warm-up under-estimates a JIT-compiled server); before any run of this
        endpoint, the client_credentials rate or half the discovery rate. A run that still
        runs out is repeated once with three times as many (Bench.measure)."""
        own = self.rate.get((server.name, endpoint), 0.0)
        cc = self.rate.get((server.name, "client_credentials"), 0.0)
        rate = max(own, 0.5 * cc) if own else (cc or 0.5 * self.rate.get((server.name, "discovery"), 0.0))
        rate = rate or 3000.0
        return min(self.args.max_mint, int(math.ceil(rate * (seconds + 1) * 1.4 * boost)) + 300)

    def wrk_argv(self, server: Server, endpoint: str, seconds: float, values: Path | None) -> list[str]:
        a = self.args
        path = server.paths["token"] if endpoint in ("client_credentials", *MINTED) else server.paths[endpoint]
        argv = [self.wrk, "-t", str(a.wrk_threads), "-c", str(a.connections), "-d", f"{max(1, round(seconds))}s",
                "--timeout", "10s", "-s", str(WRK_LUA), server.base + path, "--"]
        if endpoint in ("discovery", "jwks", "hello"):
            return argv + ["get", str(a.wrk_threads)]
        prefix, suffix = token_body(endpoint)
        if endpoint == "client_credentials":
            return argv + ["post", str(a.wrk_threads), server.auth, prefix]
        return argv + ["values", str(a.wrk_threads), server.auth, prefix, str(values), suffix]

    def measure(self, server: Server, endpoint: str, seconds: float, round_no: int) -> Run:
        run = self._measure(server, endpoint, seconds, round_no)
        if run.exhausted:
            # Ran out of minted values (the server was faster than estimated): once more, with more.
            log(f"  {server.name} {endpoint}: ran out of minted values at {run.rps:.0f} req/s; again with more")
            run = self._measure(server, endpoint, seconds, round_no, boost=3.0)
        return run

    def _measure(self, server: Server, endpoint: str, seconds: float, round_no: int, boost: float = 1.0) -> Run:
        values = None
        if endpoint in MINTED:
            values = self.tmp / f"values-{server.name}-{endpoint}.txt"
            count = self.values_needed(server, endpoint, seconds, boost)
            started = time.monotonic()
            server.mint(MINTED[endpoint], count, values)
            self.minted += count
            if self.args.verbose:
                log(f"  minted {count} {MINTED[endpoint]}s for {server.name} in {time.monotonic() - started:.1f}s")
        time.sleep(self.args.pause)
        busy_before = machine_busy_seconds()
        cpu_before = group_cpu_seconds(server.proc.pid)
        children_before = os.times()
        res = subprocess.run(self.wrk_argv(server, endpoint, seconds, values), capture_output=True, text=True,
                             timeout=seconds + 60, preexec_fn=_die_with_parent)
        children_after = os.times()
        cpu = group_cpu_seconds(server.proc.pid) - cpu_before
        busy = machine_busy_seconds() - busy_before
        wrk_cpu = (children_after.children_user + children_after.children_system
                   - children_before.children_user - children_before.children_system)
        line = next((l for l in res.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
        if res.returncode != 0 or line is None:
            raise BenchError(f"wrk failed on {server.name} {endpoint} ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        data = json.loads(line[len("BENCH_JSON "):])
        duration = data["duration_us"] / 1e6
        requests = data["requests"]
        errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
        rps = requests / duration if duration else 0.0
        valid = requests > 0 and data["exhausted"] == 0 and errors <= max(2, requests // 200)
        note = ""
        if data["exhausted"]:
            note = f"ran out of minted values ({data['exhausted']} requests without one)"
        elif not valid:
            note = f"{errors} errors ({data['status_errors']} non-2xx, {data['connect_errors']} connect, {data['read_errors']} read, {data['timeouts']} timeouts)"
        run = Run(
            server=server.name, endpoint=endpoint, round=round_no, rps=rps,
            p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000, requests=requests, errors=errors,
            exhausted=data["exhausted"], cpu_ms_per_req=(cpu * 1000 / requests) if requests else 0.0,
            wrk_cpu_pct=100 * wrk_cpu / duration if duration else 0.0,
            other_cpu_pct=max(0.0, 100 * (busy - cpu - wrk_cpu) / duration) if duration else 0.0, valid=valid, note=note,
        )
        # An exhausted run's rate mixes in fast 400s: an over-estimate, which is the safe side.
        self.rate[(server.name, endpoint)] = max(self.rate.get((server.name, endpoint), 0.0), rps)
        return run

    def record(self, run: Run, warmup: bool = False) -> None:
        flag = "" if run.valid else f"  INVALID: {run.note}"
        tag = "warm-up" if warmup else f"round {run.round}"
        log(f"  {tag:8} {run.server:13} {run.endpoint:18} {run.rps:8.0f} req/s  p50 {run.p50_ms:6.1f} ms  "
            f"p99 {run.p99_ms:6.1f} ms  cpu {run.cpu_ms_per_req:5.2f} ms/req  wrk {run.wrk_cpu_pct:3.0f}%  "
            f"others {run.other_cpu_pct:3.0f}%{flag}")
        if not warmup:
            self.runs.append(run)


def preflight(server: Server, endpoint: str) -> None:
    """One real request per endpoint: a server that fails it is not load-tested on it."""
    if endpoint in ("discovery", "jwks"):
        if endpoint not in server.paths:
            server.skipped[endpoint] = "not advertised in discovery"
            return
        status, body = http("GET", server.base + server.paths[endpoint])
        if status != 200:
            server.skipped[endpoint] = f"GET answered {status}: {body[:200]!r}"
            return
        doc = json.loads(body)
        if endpoint == "jwks" and not doc.get("keys"):
            server.skipped[endpoint] = "JWKS has no keys"
        elif endpoint == "jwks":
            server.notes[endpoint] = ", ".join(f"{k.get('kty')}/{k.get('alg')}" for k in doc["keys"])
        return
    if "token" not in server.paths:
        server.skipped[endpoint] = "no token_endpoint in discovery"
        return
    value = ""
    if endpoint in MINTED:
        tmp = Path(tempfile.mkstemp(prefix="bench-preflight-")[1])
        try:
            server.mint(MINTED[endpoint], 1, tmp)
            value = tmp.read_text().split()[0]
        except BenchError as err:
            server.skipped[endpoint] = f"cannot mint: {str(err)[:400]}"
            return
        finally:
            tmp.unlink(missing_ok=True)
    prefix, suffix = token_body(endpoint)
    headers = {"Authorization": "Basic " + server.auth, "Content-Type": "application/x-www-form-urlencoded"}
    status, body = http("POST", server.base + server.paths["token"], body=(prefix + value + suffix).encode(), headers=headers)
    try:
        doc = json.loads(body)
    except ValueError:
        doc = {}
    if status != 200 or "access_token" not in doc:
        server.skipped[endpoint] = f"POST answered {status}: {body[:300]!r}"
        return
    wanted = {"code_exchange": ("id_token", "refresh_token"), "refresh": ("refresh_token",)}.get(endpoint, ())
    missing = [m for m in wanted if m not in doc]
    if endpoint == "refresh" and doc.get("refresh_token") == value:
        missing.append("rotation (same refresh_token returned)")
    server.notes[endpoint] = "returns " + ", ".join(sorted(k for k in doc if k.endswith("token")))
    if isinstance(doc.get("id_token"), str) and doc["id_token"].count(".") == 2:
        head = doc["id_token"].split(".")[0]
        alg = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))).get("alg")
        server.notes[endpoint] += f" (id_token {alg})"
    if missing:
        server.notes[endpoint] += "; missing " + ", ".join(missing)


# --------------------------------------------------------------------------- report


def summarise(runs: list[Run], server: str, endpoint: str) -> dict[str, Any] | None:
    chosen = [r for r in runs if r.server == server and r.endpoint == endpoint and r.valid]
    if not chosen:
        return None
    med = statistics.median
    return {
        "rounds": len(chosen),
        "rps": med(r.rps for r in chosen),
        "rps_min": min(r.rps for r in chosen),
        "rps_max": max(r.rps for r in chosen),
        "p50_ms": med(r.p50_ms for r in chosen),
        "p99_ms": med(r.p99_ms for r in chosen),
        "cpu_ms_per_req": med(r.cpu_ms_per_req for r in chosen),
    }


def report(bench: Bench, servers: dict[str, Server], args: argparse.Namespace, started: float) -> dict[str, Any]:
    runs = bench.runs
    table: dict[str, Any] = {}
    lines = []
    width = 19

    def cell(s: dict[str, Any] | None) -> str:
        if s is None:
            return f"{'-':>8} {'':>7} {'':>7} {'':>6}"
        return f"{s['rps']:8.0f} {s['p50_ms']:7.1f} {s['p99_ms']:7.1f} {s['cpu_ms_per_req']:6.2f}"

    head = f"{'endpoint':{width}} {'Passerelle':^31} | {'oidc-provider':^31} | {'ratio P/N':^13}"
    sub = f"{'':{width}} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>6} | " \
          f"{'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>6} | {'req/s':>6} {'cpu':>6}"
    lines += [head, sub, "-" * len(sub)]

    def fmt(v: float | None) -> str:
        return f"{v:6.2f}" if v else "     -"

    for endpoint in ENDPOINTS:
        sp, sn = summarise(runs, P, endpoint), summarise(runs, N, endpoint)
        ratio = sp["rps"] / sn["rps"] if sp and sn and sn["rps"] else None
        # Efficiency: oidc-provider's CPU per request over Passerelle's (>= 1: Passerelle is cheaper).
        # Steadier than req/s when other processes compete for the CPUs.
        cpu_ratio = sn["cpu_ms_per_req"] / sp["cpu_ms_per_req"] if sp and sn and sp["cpu_ms_per_req"] else None
        table[endpoint] = {P: sp, N: sn, "ratio": ratio, "cpu_ratio": cpu_ratio}
        lines.append(f"{endpoint:{width}} {cell(sp)} | {cell(sn)} | {fmt(ratio)} {fmt(cpu_ratio)}")
    sh = summarise(runs, H, "hello")
    table["hello"] = {H: sh}
    lines.append("-" * len(sub))
    lines.append(f"{'flask hello ceiling':{width}} {cell(sh)} |")
    print()
    print("\n".join(lines))
    print()
    print("req/s, p50 and p99: medians over the valid rounds; cpu ms: server CPU time (all its processes)")
    print("per request. ratio req/s = Passerelle req/s / oidc-provider req/s (target: >= 1.0 on every row);")
    print("ratio cpu = oidc-provider cpu ms / Passerelle cpu ms (>= 1.0: Passerelle spends less CPU per request).")
    for server in servers.values():
        for endpoint, why in server.skipped.items():
            print(f"  not measured: {server.name} {endpoint}: {why}")
    invalid = [r for r in runs if not r.valid]
    for r in invalid:
        print(f"  discarded: round {r.round} {r.server} {r.endpoint}: {r.note}")
    others = [r.other_cpu_pct for r in runs if r.valid]
    if others:
        busy = statistics.median(others)
        print(f"other processes used {busy:.0f}% of one CPU during the median run (max {max(others):.0f}%)"
              + ("  WARNING: the machine was not quiet, numbers are noisy" if busy > 15 else ""))
    print(f"wall time {time.monotonic() - started:.0f}s, {bench.minted} values minted")
    return table


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="~2 minutes: 2 rounds of 3 s (unless overridden)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3, quick 2)")
    parser.add_argument("--duration", type=int, help="seconds per measured run (default 12, quick 3)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per server and endpoint (default 2, quick 1)")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds of rest before each run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: leave the CPUs to the servers)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="gunicorn workers = node cluster processes (default: CPU count)")
    parser.add_argument("--worker-class", help="gunicorn --worker-class for Passerelle and hello (default: gunicorn's/config's)")
    parser.add_argument("--threads", type=int, help="gunicorn --threads (gthread worker)")
    parser.add_argument("--gunicorn-config", help="gunicorn config file (default: config/gunicorn.conf.py if it exists)")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS), help=f"comma-separated subset of {','.join(ENDPOINTS)}")
    parser.add_argument("--skip-node", action="store_true", help="do not run oidc-provider")
    parser.add_argument("--skip-passerelle", action="store_true", help="do not run Passerelle")
    parser.add_argument("--skip-hello", action="store_true", help="do not run the bare-Flask ceiling")
    parser.add_argument("--database-url", "--db-url", dest="database_url",
                        help="Passerelle database (default: SQLite file in a temporary directory); "
                             "`bash tests/pg.sh .venv/bin/python bench/run.py` runs on a throwaway PostgreSQL")
    parser.add_argument("--idp-env", default="production", choices=("production", "development"),
                        help="Passerelle ENV (default production, with random secrets)")
    parser.add_argument("--max-mint", type=int, default=400_000, help="cap on values minted before one run")
    parser.add_argument("--json-out", default=str(ROOT / "var" / "bench" / "last.json"), help="where to write the results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, database)")
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.duration = args.duration or (3 if args.quick else 12)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    unknown = set(args.endpoints) - set(ENDPOINTS)
    if unknown:
        parser.error(f"unknown endpoints: {', '.join(sorted(unknown))}")
    if args.duration > 600 or args.rounds > 20:
        parser.error("keep runs bounded: --duration <= 600 and --rounds <= 20")
    return args


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Also when started in the background by a shell, which leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    procs = Processes()
    tmp = Path(tempfile.mkdtemp(prefix="passerelle-bench-"))
    servers: dict[str, Server] = {}
    code_ttl = max(60, int(args.duration) + 60)
    try:
        bench = Bench(args, tmp)
        env = dict(os.environ)
        python = None if args.skip_passerelle and args.skip_hello else pick_python()
        gunicorn = gunicorn_argv(python, args) if python else []
        log(f"{os.cpu_count()} CPUs, {args.workers} workers per server, wrk -t{args.wrk_threads} -c{args.connections}, "
            f"{args.rounds} rounds x {args.duration:g}s, load average {os.getloadavg()[0]:.2f}; logs in {tmp}")
        if not args.skip_passerelle:
            servers[P] = PasserelleServer(python, gunicorn, args.workers, code_ttl, tmp, env, args.database_url, args.idp_env)
        if not args.skip_node:
            servers[N] = NodeServer(args.workers, code_ttl, tmp, env)
        if not args.skip_hello:
            servers[H] = HelloServer(python, gunicorn, args.workers, tmp, env)
        for server in list(servers.values()):
            log(f"starting {server.name}")
            try:
                server.start(procs)
            except BenchError as err:
                if server.name != P:
                    raise
                # Passerelle not ready (e.g. endpoints still being built): measure the rest.
                log(f"passerelle could not start, measuring the others only:\n{err}")
                servers.pop(P)
                bench.runs.append(Run(P, "*", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, False, f"did not start: {str(err)[:500]}"))
        for server in servers.values():
            if server.name == H:
                continue
            for endpoint in args.endpoints:
                preflight(server, endpoint)
                if endpoint in server.skipped:
                    log(f"  {server.name} {endpoint}: NOT MEASURED: {server.skipped[endpoint]}")
                elif server.notes.get(endpoint):
                    log(f"  {server.name} {endpoint}: ok, {server.notes[endpoint]}")

        plan = [(s, e) for e in args.endpoints for s in servers.values() if s.name != H and e not in s.skipped]
        if H in servers:
            plan.insert(0, (servers[H], "hello"))
        log(f"warm-up: {args.warmup:g}s per server and endpoint")
        for server, endpoint in plan:
            if args.warmup > 0:
                bench.record(bench.measure(server, endpoint, args.warmup, 0), warmup=True)
        for round_no in range(1, args.rounds + 1):
            log(f"round {round_no}/{args.rounds}")
            if H in servers:
                bench.record(bench.measure(servers[H], "hello", args.duration, round_no))
            order = [s for s in (servers.get(P), servers.get(N)) if s]
            if round_no % 2 == 0:
                order.reverse()
            for endpoint in args.endpoints:
                for server in order:
                    if endpoint not in server.skipped:
                        bench.record(bench.measure(server, endpoint, args.duration, round_no))
        table = report(bench, servers, args, started)
        out = Path(args.json_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
            "settings": {k: v for k, v in vars(args).items() if k != "json_out"},
            "summary": table,
            "skipped": {s.name: s.skipped for s in servers.values() if s.skipped},
            "notes": {s.name: s.notes for s in servers.values() if s.notes},
            "runs": [vars(r) for r in bench.runs],
        }, indent=2))
        log(f"results written to {out}")
        return 0
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    except (BenchError, subprocess.TimeoutExpired) as err:
        log(f"error: {err}")
        return 1
    finally:
        procs.stop_all()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
