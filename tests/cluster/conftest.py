"""Two Passerelle hosts behind HAProxy, on one PostgreSQL and one Redis, each with its own
`idp worker`, mail through a switch to the suite's SMTP sink (docs/deployment.md, "Several
hosts"). Built once per module; every test of tests/cluster/ shares it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field

import pytest
import requests

from tests.cluster.services import HAProxy, Instance, Postgres, Switch
from tests.conftest import TEST_CONFIG, smtp_server
from tests.integration.web.served import BIN, ROOT
from tests.oidc_support import PASSWORD
from tests.redis_support import redis_url  # noqa: F401  (fixture)

# What each host is given beyond config/test.toml: several instances on PostgreSQL and Redis,
# mail sent by the workers only, short caches and delays so the test sees them pass.
CLUSTER_SETTINGS = {
    "IDP_INSTANCES": "2",
    "IDP_MAIL_SEND_AFTER_RESPONSE": "false",
    "IDP_MAIL_RETRY_DELAY": "1",
    "IDP_OIDC_KEY_CACHE_TTL": "1",
    "IDP_OIDC_CLIENT_CACHE_TTL": "1",
    "IDP_OIDC_KEY_PUBLISH_AHEAD": "8",
    "IDP_SIGNIN_LOCK_THRESHOLD": "3",
    "IDP_ROBOT_CHECK_RATE_LIMIT": '"6 per minute"',
    "IDP_DATABASE_LOCK_TIMEOUT_MS": "2000",
}


@dataclass
class Cluster:
    url: str  # HAProxy: what people and relying parties reach
    a: Instance
    b: Instance
    postgres: Postgres
    smtp: Switch
    env: dict[str, str]
    demo: dict = field(default_factory=dict)
    email: str = "grappe@example.ca"

    def idp(self, *args: str, stdin: str | None = None) -> str:
        """`idp ARGS` as an operator runs it on a host; its standard output."""
        result = subprocess.run([str(BIN / "idp"), *args], cwd=ROOT, env=self.env, input=stdin, text=True,
                                capture_output=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis_url):  # noqa: F811
    directory = tmp_path_factory.mktemp("cluster")
    postgres = Postgres().start()
    switch = Switch(smtp_server().port)
    switch.on()
    a, b = Instance("a", directory), Instance("b", directory)
    haproxy = HAProxy(directory, {"a": a.port, "b": b.port})
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "IDP_CONFIG": str(TEST_CONFIG),
        "IDP_SQLALCHEMY_DATABASE_URI": postgres.url,
        "IDP_OIDC_ISSUER": f"http://127.0.0.1:{haproxy.port}",
        "IDP_RATELIMIT_STORAGE_URI": redis_url,
        "IDP_SMTP_HOST": "127.0.0.1",
        "IDP_SMTP_PORT": str(switch.port),
        **CLUSTER_SETTINGS,
    }
    cluster = Cluster(url=env["IDP_OIDC_ISSUER"], a=a, b=b, postgres=postgres, smtp=switch, env=env)
    try:
        cluster.idp("db", "upgrade")
        cluster.demo = json.loads(cluster.idp("demo", "--json"))
        # The person of the journeys, with the password tests.institution_portal_support types.
        cluster.idp("users", "create", "--email", cluster.email, "--given-name", "Grappe", "--family-name", "Hôte",
                    "--password-stdin", stdin=PASSWORD + "\n")
        a.start(env)
        b.start(env)
        haproxy.start()
        wait_until_both_serve(cluster.url)
        yield cluster
    finally:
        haproxy.stop()
        for instance in (a, b):
            instance.stop()
        switch.off()
        postgres.destroy()


@pytest.fixture
def figures(request):
    """figures(title, values): a line in pytest's own output, passing or failing, whatever
    it captures (docs/deployment.md quotes these figures)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")

    def show(title: str, values: dict) -> None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\n[cluster] {title}: {json.dumps(values, sort_keys=True, ensure_ascii=False)}")

    return show


def wait_until_both_serve(url: str, limit: float = 30.0) -> None:
    """HAProxy marks a server up after its first good health check."""
    seen: set[str] = set()
    deadline = time.monotonic() + limit
    while seen != {"a", "b"}:
        if time.monotonic() > deadline:
            raise RuntimeError(f"HAProxy sends to {seen or 'no instance'} after {limit} s")
        response = requests.get(f"{url}/health/ready", timeout=5)
        if response.status_code == 200:
            seen.add(response.headers.get("X-Served-By", ""))
        time.sleep(0.1)
