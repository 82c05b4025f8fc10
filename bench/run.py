#!/usr/bin/env python3
"""Load benchmark: Passerelle under granian and under gunicorn against node oidc-provider,
plus the bare-Flask ceiling under both servers.

    python bench/run.py            # the full run (docs/performance.md gives its length)
    python bench/run.py --quick    # 2 rounds of 3 s
    python bench/run.py --workers 1,2,4 --database-url postgresql+psycopg://...   # scale
    python bench/run.py --help     # every knob

What it does (docs/performance.md explains the method and the numbers):
  1. Starts the servers on loopback ports it picks itself, each with the same number of
     processes (--workers, default: the number of CPUs):
       passerelle-granian   granian idp:create_app with config/granian.env as committed;
       passerelle-gunicorn  gunicorn 'idp:create_app()' with config/gunicorn.conf.py; each on a
                            fresh SQLite database in a temporary directory (or --database-url),
                            ENV=production, random secrets, after `idp db upgrade` and
                            `idp clients create ... --json`;
       oidc-provider        bench/node/server.js (node cluster module, oidc-provider's in-memory
                            adapter, same ES256 signing, same client and grants);
       hello-granian, hello-gunicorn   bench/hello_app.py, one route, under the same settings.
  2. Checks each endpoint once per server (status 200 and the expected JSON members); an
     endpoint a server does not answer correctly is reported and skipped for that server.
  3. Warms every server up, then runs rounds. In each round every endpoint is measured on
     each server back to back, the order turning by one server each round, with `wrk` (one
     thread, --connections connections, --duration seconds). Code exchange and refresh need
     a fresh single-use value per request: before each of those runs the harness mints enough
     of them for that server (Passerelle: bench/passerelle_seed.py writes rows with the
     provider's models; oidc-provider: server.js's bench-only control port). UserInfo and
     introspection use one fresh access token per run. The sign-in row (Passerelle only)
     walks whole browser-free sign-ins (bench/signin_flow.py: authorize, password, emailed
     code read from a loopback SMTP sink in this process, token) from --signin-concurrency
     threads.
  4. Prints, per endpoint, the median over rounds of req/s, p50 and p99 latency, server CPU
     time per request, and the ratio Passerelle / oidc-provider, the Flask ceilings, the
     sign-ins per second per core against Keycloak's sizing, and each worker's RSS from after
     the warm-up to the end; with several --workers counts, a scale table. Everything goes to
     var/bench/last.json.

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
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from signin_flow import SignInWalk, SmtpSink  # bench/, beside this file

ROOT = BENCH.parent
NODE_DIR = BENCH / "node"
WRK_LUA = BENCH / "wrk.lua"
LOOPBACK = "127.0.0.1"
REDIRECT_URI = "http://127.0.0.1:9/cb"  # never contacted: codes are minted, not redirected
CODE_VERIFIER = "bench-verifier-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
CODE_CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(CODE_VERIFIER.encode()).digest()).rstrip(b"=").decode()

ENDPOINTS = ("discovery", "jwks", "client_credentials", "code_exchange", "refresh", "userinfo", "introspection",
             "signin")
MINTED = {"code_exchange": "code", "refresh": "refresh"}
BEARER = ("userinfo", "introspection")  # one access token per run, minted just before it
TOKEN_POSTS = ("client_credentials", *MINTED)
SERVER_KINDS = ("granian", "gunicorn")
# Keycloak's sizing guide: 15 password-based user logins per second per vCPU (Keycloak 26,
# "Concepts for sizing CPU and memory resources"), the figure the sign-in row is held to.
KEYCLOAK_SIGNINS_PER_VCPU = 15
SIGNIN_PASSWORD = "Bench-Sign-In-Passw0rd-" + "x" * 8
RSS_GOAL_MB = 120

N = "oidc-provider"


def passerelle(kind: str) -> str:
    return f"passerelle-{kind}"


def hello(kind: str) -> str:
    return f"hello-{kind}"


def is_passerelle(name: str) -> bool:
    return name.startswith("passerelle-")


def is_hello(name: str) -> bool:
    return name.startswith("hello-")


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


def group_rss_kib(pgid: int) -> dict[int, int]:
    """pid -> resident set (KiB) of each live process of one process group."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read().decode()
            if int(stat[stat.rindex(")") + 2:].split()[2]) != pgid:
                continue
            with open(f"/proc/{entry.name}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        found[int(entry.name)] = int(line.split()[1])
                        break
        except (OSError, ValueError, IndexError):
            continue
    return found


def read_env_file(text: str) -> dict[str, str]:
    """KEY=value lines (config/granian.env), as systemd and `idp serve` read them."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = " ".join(shlex.split(value))
    return values


def parse_workers(text: str) -> list[int]:
    """--workers "2" or "1,2,4": each a positive process count, in the order given."""
    counts = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or not 1 <= int(part) <= 64:
            raise ValueError(f"worker count {part!r}: 1 to 64")
        counts.append(int(part))
    if not counts:
        raise ValueError("no worker count")
    return counts


def parse_assignments(items: list[str]) -> dict[str, str]:
    """["NAME=VALUE", ...] -> {NAME: VALUE}; NAME an environment variable name."""
    found = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name.isidentifier():
            raise ValueError(f"{item!r} is not NAME=VALUE")
        found[name] = value
    return found


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 < fraction <= 1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def signins_per_core(cpu_ms_per_signin: float) -> float:
    """Sign-ins one fully busy core serves, from the server's CPU time per sign-in."""
    return 1000.0 / cpu_ms_per_signin if cpu_ms_per_signin > 0 else 0.0


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    base: str = ""
    granian_changes: dict[str, str] = field(default_factory=dict)  # --granian-set
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    auth: str = ""
    bearer: str = ""  # the access token of the current UserInfo or introspection run
    paths: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # endpoint -> why
    notes: dict[str, str] = field(default_factory=dict)  # endpoint -> response shape
    rss: list[dict[str, Any]] = field(default_factory=list)  # samples: requests served, RSS per worker

    def mint(self, kind: str, count: int, out: Path) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def access_token(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def resolve_paths(self) -> None:
        status, body = http("GET", self.base + "/.well-known/openid-configuration")
        if status != 200:
            raise BenchError(f"{self.name}: discovery answered {status}: {body[:300]!r}")
        doc = json.loads(body)
        self.paths["discovery"] = "/.well-known/openid-configuration"
        for endpoint, member in (("jwks", "jwks_uri"), ("token", "token_endpoint"), ("userinfo", "userinfo_endpoint"),
                                 ("introspection", "introspection_endpoint"), ("authorization", "authorization_endpoint")):
            url = doc.get(member)
            if not url:
                continue
            parts = urllib.parse.urlsplit(url)
            if parts.hostname != LOOPBACK:
                raise BenchError(f"{self.name}: {member} {url} is not on {LOOPBACK}; set the issuer to the bench port")
            self.paths[endpoint] = parts.path

    def sample_rss(self, requests_served: int) -> None:
        """RSS of each worker (the group without its leader, unless the leader is alone)."""
        if self.proc is None:
            return
        sizes = group_rss_kib(self.proc.pid)
        workers = {pid: kib for pid, kib in sizes.items() if pid != self.proc.pid} or sizes
        self.rss.append({"requests": requests_served, "worker_rss_mb": sorted(round(k / 1024, 1) for k in workers.values())})


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
    if endpoint == "introspection":
        return "token_type_hint=access_token&token=" + urllib.parse.quote(value, safe=""), ""
    raise ValueError(endpoint)


def exchange_minted_code(server: Server) -> dict[str, Any]:
    """Mint one code and redeem it over HTTP: the token response."""
    tmp = Path(tempfile.mkstemp(prefix="bench-code-")[1])
    try:
        server.mint("code", 1, tmp)
        code = tmp.read_text().split()[0]
    finally:
        tmp.unlink(missing_ok=True)
    prefix, suffix = token_body("code_exchange")
    headers = {"Authorization": "Basic " + server.auth, "Content-Type": "application/x-www-form-urlencoded"}
    status, body = http("POST", server.base + server.paths["token"], body=(prefix + code + suffix).encode(), headers=headers)
    if status != 200:
        raise BenchError(f"{server.name}: code exchange answered {status}: {body[:300]!r}")
    return json.loads(body)


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

    def access_token(self) -> str:
        # In every worker's memory: one issued by a code exchange lives in one worker only.
        tmp = Path(tempfile.mkstemp(prefix="bench-access-")[1])
        try:
            self.mint("access", 1, tmp)
            return tmp.read_text().split()[0]
        finally:
            tmp.unlink(missing_ok=True)


class PasserelleServer(Server):
    """Passerelle under one server (granian or gunicorn), on a database of its own (SQLite)
    or the one --database-url names (shared by both servers then)."""

    def __init__(self, kind: str, python: str, server_argv: list[str], workers: int, code_ttl: int, tmp: Path,
                 env: dict[str, str], database_url: str | None, idp_env: str, smtp_port: int, people: int):
        super().__init__(passerelle(kind))
        self.kind, self.python, self.server_argv, self.workers, self.code_ttl, self.tmp = (
            kind, python, server_argv, workers, code_ttl, tmp)
        self.base_env, self.database_url, self.idp_env = env, database_url, idp_env
        self.smtp_port, self.people_count = smtp_port, people
        self.secrets: dict[str, str] = {}  # the same for every server on one database: see run_once
        self.user_id = 0
        self.people: list[str] = []
        self.next_person = 0
        self.people_lock = threading.Lock()

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
        """A fresh database with the bench client and people; self.env then configures the app."""
        self.base = f"http://{LOOPBACK}:{port}"
        db_url = self.database_url or f"sqlite:///{self.tmp / (self.name + '.sqlite3')}"
        config = self.tmp / f"{self.name}.toml"
        # Production settings but for the sign-in row: the emailed code alone after the
        # password (MFA_REQUIRED off, as the sign-in is password then emailed code),
        # and per-address limits that every bench walker, all on 127.0.0.1, would share.
        config.write_text(
            f'ENV = "{self.idp_env}"\nINSTANCES = 1\nSESSION_COOKIE_SECURE = true\n'
            f'MFA_REQUIRED = false\nSIGNIN_RATE_LIMIT = "1000000 per minute"\n'
            f'MFA_EMAIL_CODE_DAILY_CAP = 1000000\n'
            f'SMTP_HOST = "{LOOPBACK}"\nSMTP_PORT = {self.smtp_port}\nSMTP_SECURITY = "none"\n'
        )
        self.env = {k: v for k, v in self.base_env.items() if not k.startswith(("IDP_", "GRANIAN_", "GUNICORN_"))}
        self.env.update({
            "IDP_CONFIG": str(config),
            "IDP_OIDC_ISSUER": self.base,
            "IDP_SQLALCHEMY_DATABASE_URI": db_url,
            **self.secrets,
        })
        log(f"{self.name}: idp db upgrade")
        self._idp("db", "upgrade")
        log(f"{self.name}: idp clients create")
        out = self._idp(
            "clients", "create", "--name", "bench", "--redirect-uri", REDIRECT_URI,
            "--grant-type", "client_credentials", "--grant-type", "authorization_code",
            "--grant-type", "refresh_token", "--json",
        )
        created = json.loads(out[out.index("{"):])
        self.client_id, self.client_secret = created["client_id"], created["client_secret"]
        self.auth = basic_auth(self.client_id, self.client_secret)
        self.user_id = int(json.loads(self._seed("user"))["user_id"])
        if self.people_count:
            people = self.tmp / f"{self.name}-people.txt"
            self._seed("people", "--count", str(self.people_count), "--password", SIGNIN_PASSWORD, "--out", str(people))
            self.people = people.read_text().split()

    def start(self, procs: Processes) -> None:
        port = free_port()
        self.prepare(port)
        self.log_path = self.tmp / f"{self.name}.log"
        env = dict(self.env)
        if self.kind == "granian":
            env.update(granian_env(self.workers, port, self.tmp / f"prometheus-{self.name}", factory=True,
                                   changes=self.granian_changes))
            argv = [*self.server_argv, "idp:create_app"]
        else:
            argv = [*self.server_argv, "--bind", f"{LOOPBACK}:{port}", "--workers", str(self.workers), "idp:create_app()"]
        self.proc = procs.start(self.name, argv, env=env, cwd=ROOT, log_path=self.log_path)
        wait_ready(self.name, self.base + "/.well-known/openid-configuration", self.proc, self.log_path)
        self.resolve_paths()

    def mint(self, kind: str, count: int, out: Path) -> None:
        self._seed(
            "mint", "--kind", kind, "--count", str(count), "--client-id", self.client_id,
            "--user-id", str(self.user_id), "--redirect-uri", REDIRECT_URI,
            "--code-challenge", CODE_CHALLENGE, "--ttl", str(self.code_ttl), "--out", str(out),
        )

    def access_token(self) -> str:
        return exchange_minted_code(self)["access_token"]

    def table_sizes(self) -> dict[str, Any]:
        """Rows and bytes of the tables the run wrote to (passerelle_seed.py sizes)."""
        try:
            return json.loads(self._seed("sizes"))
        except (BenchError, ValueError, subprocess.TimeoutExpired) as err:
            return {"error": str(err)[:300]}

    def person(self) -> str:
        """The next address of the pool, round robin: one walker per address at a time."""
        with self.people_lock:
            address = self.people[self.next_person % len(self.people)]
            self.next_person += 1
            return address


class HelloServer(Server):
    def __init__(self, kind: str, server_argv: list[str], workers: int, tmp: Path, env: dict[str, str]):
        super().__init__(hello(kind))
        self.kind, self.server_argv, self.workers, self.tmp, self.env = kind, server_argv, workers, tmp, env

    def start(self, procs: Processes) -> None:
        port = free_port()
        self.base = f"http://{LOOPBACK}:{port}"
        self.log_path = self.tmp / f"{self.name}.log"
        env = {k: v for k, v in self.env.items() if not k.startswith(("IDP_", "GRANIAN_", "GUNICORN_"))}
        if self.kind == "granian":
            env.update(granian_env(self.workers, port, self.tmp / f"prometheus-{self.name}", factory=False,
                                   changes=self.granian_changes))
            env["PYTHONPATH"] = str(BENCH)
            argv = [*self.server_argv, "hello_app:app"]
        else:
            argv = [*self.server_argv, "--bind", f"{LOOPBACK}:{port}", "--workers", str(self.workers),
                    "--pythonpath", str(BENCH), "hello_app:app"]
        self.proc = procs.start(self.name, argv, env=env, cwd=BENCH if self.kind == "granian" else ROOT,
                                log_path=self.log_path)
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
    probe = "import flask, gunicorn, granian, idp"
    for candidate in (sys.executable, str(ROOT / ".venv" / "bin" / "python")):
        if Path(candidate).exists() and subprocess.run([candidate, "-c", probe], cwd=ROOT,
                                                       capture_output=True).returncode == 0:
            return candidate
    raise BenchError("no Python with flask, gunicorn, granian and idp installed: run `make install` or use .venv/bin/python")


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


def granian_argv(python: str) -> list[str]:
    binary = Path(python).parent / "granian"
    return [str(binary)] if binary.exists() else [python, "-m", "granian"]


GRANIAN_ENV_FILE = ROOT / "config" / "granian.env"


def granian_env(workers: int, port: int, metrics_dir: Path, *, factory: bool,
                changes: dict[str, str] | None = None) -> dict[str, str]:
    """config/granian.env as committed (the production settings, access log included), with
    --granian-set's changes, on this port with this many workers; each server its own
    metrics folder."""
    values = read_env_file(GRANIAN_ENV_FILE.read_text()) if GRANIAN_ENV_FILE.exists() else {"GRANIAN_INTERFACE": "wsgi"}
    values.update(changes or {})
    metrics_dir.mkdir(parents=True, exist_ok=True)
    values.update({"GRANIAN_HOST": LOOPBACK, "GRANIAN_PORT": str(port), "GRANIAN_WORKERS": str(workers),
                   "GRANIAN_FACTORY": "true" if factory else "false", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    return values


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
    http_requests: int = 0  # the sign-in row: HTTP requests behind its `requests` sign-ins


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path, workers: int, sink: SmtpSink | None):
        self.args, self.tmp, self.workers, self.sink = args, tmp, workers, sink
        self.wrk = ensure_wrk()
        self.runs: list[Run] = []
        self.rate: dict[tuple[str, str], float] = {}
        self.served: dict[str, int] = {}  # server -> requests served so far (every run, warm-ups too)
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
        path = server.paths["token"] if endpoint in TOKEN_POSTS else server.paths[endpoint]
        argv = [self.wrk, "-t", str(a.wrk_threads), "-c", str(a.connections), "-d", f"{max(1, round(seconds))}s",
                "--timeout", "10s", "-s", str(WRK_LUA), server.base + path, "--"]
        if endpoint in ("discovery", "jwks", "hello"):
            return argv + ["get", str(a.wrk_threads)]
        if endpoint == "userinfo":
            return argv + ["bearer", str(a.wrk_threads), server.bearer]
        prefix, suffix = token_body(endpoint, server.bearer)
        if endpoint in ("client_credentials", "introspection"):
            return argv + ["post", str(a.wrk_threads), server.auth, prefix]
        return argv + ["values", str(a.wrk_threads), server.auth, prefix, str(values), suffix]

    def measure(self, server: Server, endpoint: str, seconds: float, round_no: int) -> Run:
        if endpoint == "signin":
            run = self._measure_signins(server, seconds, round_no)
        else:
            run = self._measure(server, endpoint, seconds, round_no)
            if run.exhausted:
                # Ran out of minted values (the server was faster than estimated): once more, with more.
                log(f"  {server.name} {endpoint}: ran out of minted values at {run.rps:.0f} req/s; again with more")
                run = self._measure(server, endpoint, seconds, round_no, boost=3.0)
        self.served[server.name] = self.served.get(server.name, 0) + (run.http_requests or run.requests)
        return run

    def _cpu_window(self, server: Server) -> tuple[float, float, os.times_result]:
        return machine_busy_seconds(), group_cpu_seconds(server.proc.pid), os.times()

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
        elif endpoint in BEARER:
            server.bearer = server.access_token()  # fresh each run: access tokens live 10 minutes
        time.sleep(self.args.pause)
        busy_before, cpu_before, children_before = self._cpu_window(server)
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

    def _measure_signins(self, server: PasserelleServer, seconds: float, round_no: int) -> Run:
        """--signin-concurrency walkers sign people in back to back for `seconds`: sign-ins
        per second, their latency, and the server's CPU per whole sign-in. The walkers run
        in this process (their CPU counts as `others`, as wrk's would not)."""
        assert self.sink is not None
        latencies: list[float] = []
        failures: list[str] = []
        requests = [0]
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def walker() -> None:
            while time.monotonic() < deadline:
                address = server.person()
                self.sink.forget(address)
                walk = SignInWalk(server.base, server.client_id, server.client_secret, REDIRECT_URI,
                                  scope="openid offline_access")
                started = time.monotonic()
                try:
                    walk.run(address, SIGNIN_PASSWORD, read_code=self.sink.wait_code)
                except Exception as error:  # noqa: BLE001  (counted and reported, the run goes on)
                    with lock:
                        failures.append(f"{type(error).__name__}: {str(error)[:200]}")
                        requests[0] += walk.requests
                    continue
                with lock:
                    latencies.append(time.monotonic() - started)
                    requests[0] += walk.requests

        time.sleep(self.args.pause)
        busy_before, cpu_before, _ = self._cpu_window(server)
        began = time.monotonic()
        threads = [threading.Thread(target=walker, daemon=True) for _ in range(self.args.signin_concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        duration = time.monotonic() - began
        cpu = group_cpu_seconds(server.proc.pid) - cpu_before
        busy = machine_busy_seconds() - busy_before
        done = len(latencies)
        valid = done > 0 and len(failures) <= max(1, done // 100)
        return Run(
            server=server.name, endpoint="signin", round=round_no, rps=done / duration if duration else 0.0,
            p50_ms=1000 * percentile(latencies, 0.5) if latencies else 0.0,
            p99_ms=1000 * percentile(latencies, 0.99) if latencies else 0.0,
            requests=done, errors=len(failures), exhausted=0,
            cpu_ms_per_req=cpu * 1000 / done if done else 0.0, wrk_cpu_pct=0.0,
            other_cpu_pct=max(0.0, 100 * (busy - cpu) / duration) if duration else 0.0, valid=valid,
            note=(f"{len(failures)} failed sign-ins, first: {failures[0]}" if failures else ""),
            http_requests=requests[0],
        )

    def record(self, run: Run, warmup: bool = False) -> None:
        flag = "" if run.valid else f"  INVALID: {run.note}"
        tag = "warm-up" if warmup else f"round {run.round}"
        unit = "sign-ins/s" if run.endpoint == "signin" else "req/s"
        log(f"  {tag:8} {run.server:19} {run.endpoint:18} {run.rps:8.0f} {unit:10} p50 {run.p50_ms:6.1f} ms  "
            f"p99 {run.p99_ms:6.1f} ms  cpu {run.cpu_ms_per_req:5.2f} ms/req  wrk {run.wrk_cpu_pct:3.0f}%  "
            f"others {run.other_cpu_pct:3.0f}%{flag}")
        if not warmup:
            self.runs.append(run)


def preflight(server: Server, endpoint: str) -> None:
    """One real request per endpoint: a server that fails it is not load-tested on it."""
    if endpoint == "signin":
        if not is_passerelle(server.name):
            server.skipped[endpoint] = "Passerelle only (oidc-provider: see docs/performance.md)"
            return
        try:
            walk = SignInWalk(server.base, server.client_id, server.client_secret, REDIRECT_URI,
                              scope="openid offline_access")
            address = server.person()
            doc = walk.run(address, SIGNIN_PASSWORD, read_code=lambda email: server_sink(email))
        except Exception as error:  # noqa: BLE001
            server.skipped[endpoint] = f"sign-in failed: {type(error).__name__}: {str(error)[:300]}"
            return
        server.notes[endpoint] = f"{walk.requests} HTTP requests, returns " + ", ".join(
            sorted(k for k in doc if k.endswith("token")))
        return
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
    if endpoint in BEARER:
        if endpoint not in server.paths:
            server.skipped[endpoint] = f"no {endpoint}_endpoint in discovery"
            return
        try:
            token = server.access_token()
        except (BenchError, KeyError, ValueError) as err:
            server.skipped[endpoint] = f"no access token: {str(err)[:300]}"
            return
        if endpoint == "userinfo":
            status, body = http("GET", server.base + server.paths[endpoint], headers={"Authorization": "Bearer " + token})
            wanted = "sub"
        else:
            prefix, suffix = token_body(endpoint, token)
            status, body = http("POST", server.base + server.paths[endpoint], body=(prefix + suffix).encode(),
                                headers={"Authorization": "Basic " + server.auth,
                                         "Content-Type": "application/x-www-form-urlencoded"})
            wanted = "active"
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        if status != 200 or not doc.get(wanted):
            server.skipped[endpoint] = f"answered {status}: {body[:300]!r}"
            return
        server.notes[endpoint] = "returns " + ", ".join(sorted(doc))
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


_SINK: SmtpSink | None = None


def server_sink(address: str) -> str:
    assert _SINK is not None
    return _SINK.wait_code(address)


# --------------------------------------------------------------------------- report


def summarise(runs: list[Run], server: str, endpoint: str, *, or_invalid: bool = False) -> dict[str, Any] | None:
    """Medians over the valid rounds; with or_invalid, over every round when none was valid
    (then "valid": False, and the table marks the row with a !)."""
    mine = [r for r in runs if r.server == server and r.endpoint == endpoint and r.round > 0]
    chosen = [r for r in mine if r.valid]
    if not chosen and or_invalid and mine:
        chosen = mine
    if not chosen:
        return None
    med = statistics.median
    return {
        "valid": all(r.valid for r in chosen),
        "errors": sum(r.errors for r in chosen),
        "requests": sum(r.requests for r in chosen),
        "rounds": len(chosen),
        "rps": med(r.rps for r in chosen),
        "rps_min": min(r.rps for r in chosen),
        "rps_max": max(r.rps for r in chosen),
        "p50_ms": med(r.p50_ms for r in chosen),
        "p99_ms": med(r.p99_ms for r in chosen),
        "cpu_ms_per_req": med(r.cpu_ms_per_req for r in chosen),
    }


def ratios(sp: dict[str, Any] | None, sn: dict[str, Any] | None) -> tuple[float | None, float | None]:
    """(req/s ratio Passerelle / oidc-provider, CPU ratio oidc-provider / Passerelle)."""
    ratio = sp["rps"] / sn["rps"] if sp and sn and sn["rps"] else None
    cpu_ratio = sn["cpu_ms_per_req"] / sp["cpu_ms_per_req"] if sp and sn and sp["cpu_ms_per_req"] else None
    return ratio, cpu_ratio


def rss_summary(samples: list[dict[str, Any]]) -> dict[str, Any] | None:
    """First and last sample of the largest worker's RSS, and the requests served between."""
    usable = [s for s in samples if s["worker_rss_mb"]]
    if not usable:
        return None
    first, last = usable[0], usable[-1]
    return {
        "requests": last["requests"],
        "requests_between": last["requests"] - first["requests"],
        "first_mb": max(first["worker_rss_mb"]),
        "last_mb": max(last["worker_rss_mb"]),
        "growth_mb": round(max(last["worker_rss_mb"]) - max(first["worker_rss_mb"]), 1),
        "workers_mb": last["worker_rss_mb"],
    }


def report(bench: Bench, servers: dict[str, Server], args: argparse.Namespace, started: float) -> dict[str, Any]:
    runs = bench.runs
    table: dict[str, Any] = {}
    width = 19
    wrk_endpoints = [e for e in args.endpoints if e != "signin"]

    def cell(s: dict[str, Any] | None) -> str:
        if s is None:
            return f"{'-':>8} {'':>7} {'':>7} {'':>6}"
        mark = " " if s["valid"] else "!"
        return f"{s['rps']:7.0f}{mark} {s['p50_ms']:7.1f} {s['p99_ms']:7.1f} {s['cpu_ms_per_req']:6.2f}"

    def fmt(v: float | None) -> str:
        return f"{v:6.2f}" if v else "     -"

    print()
    print(f"== {bench.workers} worker(s) per server, {args.connections} connections, "
          f"{'database ' + args.database_url.split('@')[-1] if args.database_url else 'SQLite'} ==")
    sn_all = {e: summarise(runs, N, e, or_invalid=True) for e in wrk_endpoints}
    for kind in args.servers:
        name = passerelle(kind)
        if name not in servers:
            continue
        head = f"{'endpoint':{width}} {name:^31} | {N:^31} | {'ratio P/N':^13}"
        sub = f"{'':{width}} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>6} | " \
              f"{'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>6} | {'req/s':>6} {'cpu':>6}"
        lines = [head, sub, "-" * len(sub)]
        for endpoint in wrk_endpoints:
            sp, sn = summarise(runs, name, endpoint, or_invalid=True), sn_all[endpoint]
            ratio, cpu_ratio = ratios(sp, sn)
            table.setdefault(endpoint, {})[name] = sp
            table[endpoint][N] = sn
            table[endpoint][f"ratio_{kind}"] = ratio
            table[endpoint][f"cpu_ratio_{kind}"] = cpu_ratio
            lines.append(f"{endpoint:{width}} {cell(sp)} | {cell(sn)} | {fmt(ratio)} {fmt(cpu_ratio)}")
        sh = summarise(runs, hello(kind), "hello", or_invalid=True)
        if sh:
            table.setdefault("hello", {})[hello(kind)] = sh
            lines.append("-" * len(sub))
            lines.append(f"{'flask hello ceiling':{width}} {cell(sh)} |")
        print("\n".join(lines))
        print()
    if "signin" in args.endpoints:
        print(f"{'sign-in':{width}} {'sign-ins/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms':>7} {'req':>5} "
              f"{'per core':>8} {'vs Keycloak':>11}")
        for kind in args.servers:
            name = passerelle(kind)
            s = summarise(runs, name, "signin", or_invalid=True)
            if s is None:
                continue
            chosen = [r for r in runs if r.server == name and r.endpoint == "signin" and r.round > 0
                      and (r.valid or not s["valid"])]
            per_signin = sum(r.http_requests for r in chosen) / max(1, sum(r.requests for r in chosen))
            per_core = signins_per_core(s["cpu_ms_per_req"])
            s.update(signins_per_core=per_core, http_requests_per_signin=per_signin,
                     keycloak_ratio=per_core / KEYCLOAK_SIGNINS_PER_VCPU)
            table.setdefault("signin", {})[name] = s
            print(f"{name:{width}} {s['rps']:9.1f}{' ' if s['valid'] else '!'} {s['p50_ms']:8.0f} {s['p99_ms']:8.0f} {s['cpu_ms_per_req']:7.1f} "
                  f"{per_signin:5.1f} {per_core:8.1f} {per_core / KEYCLOAK_SIGNINS_PER_VCPU:10.2f}x")
        print(f"  authorize, password (argon2id at the configured cost), emailed code, token; per core = 1000 / cpu ms; "
              f"Keycloak's sizing: {KEYCLOAK_SIGNINS_PER_VCPU} password sign-ins/s per vCPU")
        print()
    databases_seen = set()
    for server in servers.values():
        if not is_passerelle(server.name) or (args.database_url and args.database_url in databases_seen):
            continue
        databases_seen.add(args.database_url or server.name)
        sizes = server.table_sizes()
        table.setdefault("database", {})[server.name] = sizes
        print(f"database after the run ({server.name if not args.database_url else 'shared'}, "
              f"{sizes.get('dialect', '?')}): rows, bytes per row (table with its indexes), index bytes per row")
        for name, size in (sizes.get("tables") or {}).items():
            rows = size["rows"] or 0
            per_row = f"{size['bytes'] / rows:7.0f}" if rows and size["bytes"] else f"{'-':>7}"
            per_index = f"{size['index_bytes'] / rows:7.0f}" if rows and size["index_bytes"] else f"{'-':>7}"
            print(f"  {name:22} {rows:10,} {per_row} {per_index}")
        print()
    print("RSS per worker (MB, largest worker; goal < 120 MB and no growth):")
    for server in servers.values():
        rs = rss_summary(server.rss)
        table.setdefault("rss", {})[server.name] = rs
        if rs:
            flag = "" if rs["last_mb"] < RSS_GOAL_MB else "  ABOVE THE GOAL"
            print(f"  {server.name:19} {rs['first_mb']:6.1f} -> {rs['last_mb']:6.1f} MB "
                  f"({rs['growth_mb']:+.1f}) over {rs['requests_between']:,} requests, "
                  f"{rs['requests']:,} served in all; workers {rs['workers_mb']}{flag}")
    print()
    print("req/s, p50 and p99: medians over the valid rounds; cpu ms: server CPU time (all its processes)")
    print("per request. ratio req/s = Passerelle req/s / oidc-provider req/s; ratio cpu = oidc-provider")
    print("cpu ms / Passerelle cpu ms (>= 1.0: Passerelle spends less CPU per request). A ! marks a row")
    print("with no valid round (more than 0.5 % errors, or failed sign-ins): medians of its invalid rounds.")
    for server in servers.values():
        for endpoint, why in server.skipped.items():
            print(f"  not measured: {server.name} {endpoint}: {why}")
    for r in (r for r in runs if not r.valid):
        print(f"  discarded: round {r.round} {r.server} {r.endpoint}: {r.note}")
    others = [r.other_cpu_pct for r in runs if r.valid]
    if others:
        busy = statistics.median(others)
        table["others_cpu_pct"] = {"median": busy, "max": max(others)}
        print(f"other processes used {busy:.0f}% of one CPU during the median run (max {max(others):.0f}%)"
              + ("  WARNING: the machine was not quiet, numbers are noisy" if busy > 15 else ""))
    print(f"wall time so far {time.monotonic() - started:.0f}s, {bench.minted} values minted")
    return table


def scale_report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """req/s per endpoint and server for each worker count (--workers 1,2,4)."""
    counts = [r["workers"] for r in results]
    print()
    print("== scale: req/s (sign-ins/s for signin) by workers per server ==")
    print(f"{'endpoint':19} {'server':19} " + " ".join(f"{c:>8}" for c in counts) + "   x last/first")
    names = [passerelle(k) for k in args.servers] + ([] if args.skip_node else [N])
    for endpoint in args.endpoints:
        for name in names:
            values = [((r["summary"].get(endpoint) or {}).get(name) or {}).get("rps") for r in results]
            if not any(values):
                continue
            cells = " ".join(f"{v:8.0f}" if v else f"{'-':>8}" for v in values)
            growth = f"{values[-1] / values[0]:6.2f}" if values[0] and values[-1] else "     -"
            print(f"{endpoint:19} {name:19} {cells}   {growth}")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few minutes: 2 rounds of 3 s (unless overridden)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3, quick 2)")
    parser.add_argument("--duration", type=int, help="seconds per measured run (default 12, quick 3)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up per server and endpoint (default 2, quick 1)")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds of rest before each run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: leave the CPUs to the servers)")
    parser.add_argument("--workers", default=str(os.cpu_count() or 2),
                        help="processes per server (granian/gunicorn workers = node cluster processes; default: CPU "
                             "count); a list such as 1,2,4 runs the whole bench once per count, then a scale table")
    parser.add_argument("--servers", default=",".join(SERVER_KINDS),
                        help="Passerelle (and the Flask ceiling) under these: granian,gunicorn (default both)")
    parser.add_argument("--granian-set", action="append", default=[], metavar="NAME=VALUE",
                        help="change one setting of config/granian.env for this run (repeatable), "
                             "e.g. GRANIAN_BACKPRESSURE=8 or MALLOC_ARENA_MAX=2")
    parser.add_argument("--worker-class", help="gunicorn --worker-class for Passerelle and hello (default: gunicorn's/config's)")
    parser.add_argument("--threads", type=int, help="gunicorn --threads (gthread worker)")
    parser.add_argument("--gunicorn-config", help="gunicorn config file (default: config/gunicorn.conf.py if it exists)")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS), help=f"comma-separated subset of {','.join(ENDPOINTS)}")
    parser.add_argument("--signin-concurrency", type=int, default=8,
                        help="sign-ins walked at once for the signin row (default 8)")
    parser.add_argument("--people", type=int, default=3000,
                        help="people in the sign-in pool, each signing in at most once per pool turn (default 3000)")
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
    args.servers = [k.strip() for k in args.servers.split(",") if k.strip()]
    if not args.servers or set(args.servers) - set(SERVER_KINDS):
        parser.error(f"--servers: a comma-separated subset of {','.join(SERVER_KINDS)}")
    try:
        args.worker_counts = parse_workers(args.workers)
    except ValueError as err:
        parser.error(f"--workers: {err}")
    if args.duration > 600 or args.rounds > 20:
        parser.error("keep runs bounded: --duration <= 600 and --rounds <= 20")
    try:
        args.granian_changes = parse_assignments(args.granian_set)
    except ValueError as err:
        parser.error(f"--granian-set: {err}")
    if not 1 <= args.signin_concurrency <= 64:
        parser.error("--signin-concurrency: 1 to 64")
    return args


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt


def instance_secrets() -> dict[str, str]:
    """Random secrets for Passerelle. One set per harness run: on a shared --database-url the
    signing keys one server wrote are encrypted with KEYS_ENCRYPTION_KEY, and every other
    server (the other kind, the next --workers count) must decrypt them."""
    return {name: secrets.token_urlsafe(48) for name in
            ("IDP_SECRET_KEY", "IDP_SECRETS_HASH_KEY", "IDP_KEYS_ENCRYPTION_KEY", "IDP_OIDC_PAIRWISE_SALT")}


def run_once(args: argparse.Namespace, workers: int, sink: SmtpSink, started: float,
             shared_secrets: dict[str, str]) -> dict[str, Any]:
    """Start every server with `workers` processes, measure, stop them; the summary."""
    procs = Processes()
    tmp = Path(tempfile.mkdtemp(prefix="passerelle-bench-"))
    servers: dict[str, Server] = {}
    code_ttl = max(60, int(args.duration) + 60)
    try:
        bench = Bench(args, tmp, workers, sink)
        env = dict(os.environ)
        python = None if args.skip_passerelle and args.skip_hello else pick_python()
        launchers = {"granian": granian_argv(python), "gunicorn": gunicorn_argv(python, args)} if python else {}
        log(f"{os.cpu_count()} CPUs, {workers} workers per server, servers {','.join(args.servers)}, "
            f"wrk -t{args.wrk_threads} -c{args.connections}, {args.rounds} rounds x {args.duration:g}s, "
            f"load average {os.getloadavg()[0]:.2f}; logs in {tmp}")
        people = args.people if "signin" in args.endpoints else 0
        if not args.skip_passerelle:
            for kind in args.servers:
                servers[passerelle(kind)] = PasserelleServer(kind, python, launchers[kind], workers, code_ttl, tmp, env,
                                                             args.database_url, args.idp_env, sink.port, people)
        if not args.skip_node:
            servers[N] = NodeServer(workers, code_ttl, tmp, env)
        if not args.skip_hello:
            for kind in args.servers:
                servers[hello(kind)] = HelloServer(kind, launchers[kind], workers, tmp, env)
        for server in list(servers.values()):
            server.granian_changes = args.granian_changes
            if isinstance(server, PasserelleServer):
                server.secrets = shared_secrets if args.database_url else instance_secrets()
            log(f"starting {server.name}")
            try:
                server.start(procs)
            except BenchError as err:
                if not is_passerelle(server.name):
                    raise
                # Passerelle not ready (e.g. endpoints still being built): measure the rest.
                log(f"{server.name} could not start, measuring the others only:\n{err}")
                servers.pop(server.name)
                bench.runs.append(Run(server.name, "*", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, False,
                                      f"did not start: {str(err)[:500]}"))
        for server in servers.values():
            if is_hello(server.name):
                continue
            for endpoint in args.endpoints:
                preflight(server, endpoint)
                if endpoint in server.skipped:
                    log(f"  {server.name} {endpoint}: NOT MEASURED: {server.skipped[endpoint]}")
                elif server.notes.get(endpoint):
                    log(f"  {server.name} {endpoint}: ok, {server.notes[endpoint]}")

        measured = [s for s in servers.values() if not is_hello(s.name)]
        plan = [(s, "hello") for s in servers.values() if is_hello(s.name)]
        plan += [(s, e) for e in args.endpoints for s in measured if e not in s.skipped]
        log(f"warm-up: {args.warmup:g}s per server and endpoint")
        for server, endpoint in plan:
            if args.warmup > 0:
                bench.record(bench.measure(server, endpoint, args.warmup, 0), warmup=True)
        for server in servers.values():
            server.sample_rss(bench.served.get(server.name, 0))
        for round_no in range(1, args.rounds + 1):
            log(f"round {round_no}/{args.rounds}")
            for server in servers.values():
                if is_hello(server.name):
                    bench.record(bench.measure(server, "hello", args.duration, round_no))
            # Interleaved: the order of the servers turns by one each round.
            shift = (round_no - 1) % max(1, len(measured))
            order = measured[shift:] + measured[:shift]
            for endpoint in args.endpoints:
                for server in order:
                    if endpoint not in server.skipped:
                        bench.record(bench.measure(server, endpoint, args.duration, round_no))
            for server in servers.values():
                server.sample_rss(bench.served.get(server.name, 0))
        table = report(bench, servers, args, started)
        return {
            "workers": workers,
            "summary": table,
            "skipped": {s.name: s.skipped for s in servers.values() if s.skipped},
            "notes": {s.name: s.notes for s in servers.values() if s.notes},
            "rss": {s.name: s.rss for s in servers.values()},
            "runs": [vars(r) for r in bench.runs],
        }
    finally:
        procs.stop_all()
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    global _SINK
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Also when started in the background by a shell, which leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    sink = _SINK = SmtpSink().start()
    results: list[dict[str, Any]] = []
    shared_secrets = instance_secrets()
    try:
        for workers in args.worker_counts:
            results.append(run_once(args, workers, sink, started, shared_secrets))
        if len(results) > 1:
            scale_report(results, args)
        out = Path(args.json_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                     text=True).stdout.strip(),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
            "settings": {k: v for k, v in vars(args).items() if k != "json_out"},
            "results": results,
        }, indent=2))
        log(f"results written to {out}; wall time {time.monotonic() - started:.0f}s")
        return 0
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    except (BenchError, subprocess.TimeoutExpired) as err:
        log(f"error: {err}")
        return 1
    finally:
        sink.stop()


if __name__ == "__main__":
    sys.exit(main())
