"""/metrics (issue 15): who may scrape it, what it counts, and that no label carries
personal data or grows without bound."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from idp.extensions import db
from idp.invitations.models import Invitation
from idp.mail.delivery import get_mail_service
from tests.integration.oidc.test_code_flow import exchange
from tests.integration.ops.test_health import stamp_head
from tests.integration.ops.test_logs import EMAIL, signin_page
from tests.invitations_support import access_token, make_api_client
from tests.oidc_support import (
    SignIn,
    authorization_params,
    basic_auth,
    csrf_token,
    make_client,
    make_user,
)

ALLOWED = {"METRICS_ALLOWED_ADDRESSES": ["127.0.0.1", "::1"]}


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_refused_unless_an_operator_lists_the_address(client):
    assert client.get("/metrics").status_code == 404  # default: nobody


@pytest.mark.settings(METRICS_ALLOWED_ADDRESSES=["10.0.0.0/8"])
def test_metrics_are_refused_to_an_address_not_listed(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


@pytest.mark.settings(**ALLOWED)
def test_metrics_are_refused_through_a_proxy_even_from_a_listed_address(client):
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404


@pytest.mark.settings(**ALLOWED, METRICS_ENABLED=False)
def test_metrics_can_be_turned_off(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.settings(**ALLOWED)
def test_requests_are_counted_by_endpoint_never_by_path(client):
    before = scrape(client)
    client.get("/health/live")
    client.get("/no/such/page/zoe@example.ca")
    after = scrape(client)
    name = "passerelle_http_requests_total"
    assert value(after, name, endpoint="ops.live", method="GET", status="200") == value(
        before, name, endpoint="ops.live", method="GET", status="200") + 1
    assert value(after, name, endpoint="none", method="GET", status="404") == value(
        before, name, endpoint="none", method="GET", status="404") + 1
    assert value(after, "passerelle_http_request_duration_seconds_count", endpoint="ops.live") >= 1
    assert "zoe" not in client.get("/metrics").get_data(as_text=True)


@pytest.mark.settings(**ALLOWED)
def test_readiness_is_a_metric_and_database_gauges_need_it(app, client):
    with app.app_context():  # a PostgreSQL run shares one database: start from none
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    samples = scrape(client)
    assert value(samples, "passerelle_ready") == 0
    assert ("passerelle_mail_outbox_depth", ()) not in samples
    stamp_head(app)
    samples = scrape(client)
    assert value(samples, "passerelle_ready") == 1 and ("passerelle_mail_outbox_depth", ()) in samples


@pytest.mark.settings(**ALLOWED)
def test_outbox_depth_and_oldest_age_are_read_at_scrape_time(app, client, clock):
    stamp_head(app)
    samples = scrape(client)
    assert value(samples, "passerelle_mail_outbox_depth") == 0
    assert value(samples, "passerelle_mail_outbox_oldest_age_seconds") == 0
    with app.app_context():
        for address in ("a@example.ca", "b@example.ca"):
            get_mail_service().enqueue(to=address, template="account-locked", locale="en", context={})
        db.session.commit()
    clock.advance(90)
    samples = scrape(client)
    assert value(samples, "passerelle_mail_outbox_depth") == 2
    assert value(samples, "passerelle_mail_outbox_oldest_age_seconds") == 90


@pytest.mark.settings(**ALLOWED)
def test_invitations_are_counted_by_state(app, client, clock):
    stamp_head(app)
    now = clock()
    with app.app_context():
        for index, extra in enumerate([{}, {}, {"accepted_at": now}, {"revoked_at": now}, {"expires_at": now - timedelta(days=1)}]):
            values = {"expires_at": now + timedelta(days=1), **extra}
            db.session.add(Invitation(public_id=f"inv{index}", email=f"p{index}@example.ca", kind="link",
                                      secret_hash=f"{index:064d}", locale="fr", inviter_name="École",
                                      created_by_kind="operator", created_by_id="ops", **values))
        db.session.commit()
    samples = scrape(client)
    assert {state: value(samples, "passerelle_invitations", state=state)
            for state in ("pending", "accepted", "revoked", "expired")} == {
        "pending": 2, "accepted": 1, "revoked": 1, "expired": 1}


@pytest.mark.settings(**ALLOWED)
def test_signins_second_factors_tokens_and_failures_are_counted(app, client):
    rp = make_client(app)
    make_user(app, email=EMAIL)
    before = scrape(client)
    code = SignIn(client).code_for(authorization_params(rp, scope="openid offline_access"), email=EMAIL)["code"]
    tokens = exchange(client, rp, code).get_json()
    client.post("/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                headers=basic_auth(rp))
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    page = signin_page(client, rp)
    client.post("/signin", data={"email": EMAIL, "password": "Wrong-Horse-Battery-7", "csrf_token": csrf_token(page.text)})
    after = scrape(client)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("passerelle_signins_total", outcome="success", method="email+pwd") == 1
    assert grew("passerelle_signins_total", outcome="failure", method="password") == 1
    assert grew("passerelle_second_factor_checks_total", factor="email_code", outcome="success") == 1
    assert grew("passerelle_tokens_issued_total", grant_type="authorization_code", client="") == 1
    assert grew("passerelle_tokens_issued_total", grant_type="refresh_token", client="") == 1
    assert grew("passerelle_security_events_total", tag="account:signin:failure") == 1
    text = client.get("/metrics").get_data(as_text=True)
    assert EMAIL not in text and rp.client_id not in text  # no client id unless allowed


@pytest.mark.settings(**ALLOWED, METRICS_CLIENT_LABELS=True)
def test_client_ids_label_tokens_only_when_an_operator_allows_it(app, client):
    rp = make_api_client(app)
    access_token(client, rp)
    assert value(scrape(client), "passerelle_tokens_issued_total", grant_type="client_credentials", client=rp.client_id) == 1


@pytest.mark.settings(**ALLOWED, SIGNIN_LOCK_THRESHOLD=2, SIGNIN_DELAY_AFTER=5, SIGNIN_RATE_LIMIT="2 per minute")
def test_lockouts_and_rate_limit_refusals_are_counted(app, client):
    rp = make_client(app)
    make_user(app, email=EMAIL)
    before = scrape(client)
    for _ in range(3):
        page = signin_page(client, rp)
        client.post("/signin", data={"email": EMAIL, "password": "Wrong-Horse-Battery-7", "csrf_token": csrf_token(page.text)})
    after = scrape(client)
    assert value(after, "passerelle_lockouts_total", kind="temporary") - value(before, "passerelle_lockouts_total", kind="temporary") == 1
    assert value(after, "passerelle_rate_limit_refusals_total", endpoint="signin.password") - value(
        before, "passerelle_rate_limit_refusals_total", endpoint="signin.password") == 1


SCRIPT = """
import sys
from idp.ops import metrics
metrics.count_request("ops.live", "GET", 200, 0.01)
metrics.count_token("refresh_token", "ignored")
print(metrics.scrape(metrics.DatabaseGauges(lambda: (0, None), lambda: {}, None, lambda: False)).decode())
"""


def test_every_worker_process_is_added_up_under_prometheus_multiproc_dir(tmp_path: Path):
    """What granian's and gunicorn's worker processes do: each writes its own files, and any
    process that scrapes (a worker, the management app) sums them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    outputs = [subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True).stdout
               for _ in range(3)]
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(outputs[-1]) for s in family.samples}
    assert value(samples, "passerelle_http_requests_total", endpoint="ops.live", method="GET", status="200") == 3
    assert value(samples, "passerelle_tokens_issued_total", grant_type="refresh_token", client="") == 3


@pytest.mark.settings(**ALLOWED)
def test_the_documented_dashboard_and_alerts_use_only_metrics_that_exist(app, client):
    stamp_head(app)
    exposed = set(re.findall(r"^# TYPE (\w+) (\w+)", client.get("/metrics").get_data(as_text=True), re.MULTILINE))
    names = {name for name, _ in exposed} | {f"{name}_total" for name, kind in exposed if kind == "counter"}
    names |= {f"{name}_{suffix}" for name, kind in exposed if kind == "histogram" for suffix in ("bucket", "count", "sum")}
    folder = Path(__file__).resolve().parents[3] / "docs" / "observability"
    used = set()
    for path in folder.iterdir():
        used |= set(re.findall(r"\bpasserelle_[a-z_]+", path.read_text()))
    assert used and used <= names, sorted(used - names)


APP_SCRIPT = """
from idp import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
print(app.test_client().get("/health/live").status_code)
"""


def test_a_missing_multiprocess_folder_is_created_rather_than_failing_every_request(tmp_path: Path):
    folder = tmp_path / "not" / "yet"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    result = subprocess.run([sys.executable, "-c", APP_SCRIPT], env=env, capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "200", result.stderr[-2000:]
    assert any(folder.iterdir())
