"""The services of the cluster test (issue 15), each started and stopped by the test itself:
a PostgreSQL server it can restart, HAProxy in front of two Passerelle instances, and a
switch in front of the SMTP sink to take mail "down" and bring it back.

Nothing here is shared with the rest of the suite but the SMTP sink (tests/conftest.py),
whose mailbox the sign-in helpers read.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.integration.web.served import BIN, ROOT, raw_request, read_env_file
from tests.support import free_port


def missing(what: str) -> None:
    """Skip on a developer's machine without the service; CI must run the cluster test."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{what} is missing, and CI must run the cluster test (make system-deps)")
    pytest.skip(f"{what} is not installed (make system-deps installs it)")


def wait_for_port(port: int, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {limit} s")


class Postgres:
    """A throwaway PostgreSQL cluster (as tests/pg.sh makes one) that a test may restart."""

    def __init__(self):
        bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bindirs or not (bindirs[-1] / "initdb").exists():
            missing("PostgreSQL")
        self.bindir = bindirs[-1]
        # Its own folder under /tmp, not pytest's (mode 0700, closed to the postgres user).
        self.directory = Path(tempfile.mkdtemp(prefix="passerelle-cluster-pg."))
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/passerelle"

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*as_postgres, *command], cwd=self.directory, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        if result.returncode:
            raise RuntimeError(f"{Path(command[0]).name} failed: {result.stderr[-2000:]}")

    def start(self) -> Postgres:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        if not (self.directory / "data").exists():
            self._run(str(self.bindir / "initdb"), "-D", "data", "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--no-locale")
            self._pg_ctl("start")
            self._run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                      "passerelle")
        else:
            self._pg_ctl("start")
        return self

    def _pg_ctl(self, action: str) -> None:
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c max_connections=200")
        if action == "start":
            self._run(str(self.bindir / "pg_ctl"), "-D", "data", "-l", "server.log", "-w", "-t", "60", "start",
                      "-o", options)
        else:
            self._run(str(self.bindir / "pg_ctl"), "-D", "data", "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        self._pg_ctl("stop")

    def client(self, program: str, *args: str) -> None:
        """pg_dump, pg_restore, createdb... against this server, as its superuser."""
        result = subprocess.run([str(self.bindir / program), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                 *args], capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise RuntimeError(f"{program} failed: {result.stderr[-2000:]}")

    def destroy(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", "data", "-m", "immediate", "-w", "stop")
        except RuntimeError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)


class Switch:
    """A TCP forwarder to `target` that can be turned off (connections refused) and on again:
    the SMTP relay's outage, without touching the sink the rest of the suite shares."""

    def __init__(self, target: int):
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None

    def on(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def off(self) -> None:
        if self._listener is not None:
            # shutdown() first: on Linux it stops listening and wakes the accept() in
            # progress; close() alone leaves that accept() taking connections.
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                incoming, _ = listener.accept()
            except OSError:
                return  # turned off
            try:
                outgoing = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            except OSError:
                incoming.close()
                continue
            for source, sink in ((incoming, outgoing), (outgoing, incoming)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):  # the other direction's thread then ends too
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()


HAPROXY_CONFIG = """\
# The load balancer of docs/deployment.md ("Several hosts"), as the cluster test runs it:
# round robin, no sticky sessions, /health/ready as the health check.
global
    maxconn 1000

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 2
    option redispatch

frontend passerelle
    bind 127.0.0.1:{port}
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /health/ready
    http-check expect status 200
    default-server inter 500ms fall 2 rise 1
    # Which instance answered: the test proves a journey crossed both.
    http-response set-header X-Served-By %s
{servers}
"""


class HAProxy:
    def __init__(self, directory: Path, backends: dict[str, int]):
        self.binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(self.binary).exists():
            missing("haproxy")
        self.port = free_port()
        self.config = directory / "haproxy.cfg"
        servers = "\n".join(f"    server {name} 127.0.0.1:{port} check" for name, port in backends.items())
        self.config.write_text(HAPROXY_CONFIG.format(port=self.port, servers=servers))
        self.process: subprocess.Popen | None = None

    def start(self) -> HAProxy:
        subprocess.run([self.binary, "-c", "-q", "-f", str(self.config)], check=True)
        self.process = subprocess.Popen([self.binary, "-db", "-f", str(self.config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Instance:
    """One Passerelle host: granian (one worker process) and its `idp worker`."""

    def __init__(self, name: str, directory: Path):
        self.name = name
        self.port = free_port()
        self.metrics = directory / f"prometheus-{name}"
        self.worker_log = directory / f"worker-{name}.log"
        self.server_log = directory / f"server-{name}.log"
        self.env: dict[str, str] = {}
        self.server: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str] | None = None) -> Instance:
        if env is not None:
            self.env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics)}
        shutil.rmtree(self.metrics, ignore_errors=True)
        self.metrics.mkdir(parents=True)
        granian = {**read_env_file(ROOT / "config" / "granian.env"), "GRANIAN_PORT": str(self.port),
                   "GRANIAN_WORKERS": "1", "GRANIAN_LOG_ACCESS_ENABLED": "false"}
        with self.server_log.open("ab") as log:  # the application's log lines: read them when a test fails
            self.server = subprocess.Popen([str(BIN / "granian"), "idp:create_app"], cwd=ROOT,
                                           env={**self.env, **granian}, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
        self._wait_until_serving()
        with self.worker_log.open("ab") as log:  # read it when mail goes astray
            self.worker = subprocess.Popen([str(BIN / "idp"), "worker", "--interval", "0.3"], cwd=ROOT, env=self.env,
                                           stdout=log, stderr=subprocess.STDOUT)
        return self

    def _wait_until_serving(self, limit: float = 60) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"host {self.name} exited: {self.server_log.read_text()[-2000:]}")
            try:
                if raw_request(self.port, b"GET /help HTTP/1.1", timeout=2).startswith(b"HTTP/1.1 200"):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"host {self.name} did not answer within {limit} s")

    def kill(self) -> None:
        """SIGKILL the server's whole process group: no shutdown, no goodbye."""
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()

    def stop(self) -> None:
        for process in (self.worker, self.server):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
