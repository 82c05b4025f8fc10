"""`idp doctor` (issue 15): every check said in plain words, a failing one never hiding the
others, exit 1 when anything is wrong. Real SMTP, real Redis, real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from idp.cli import main
from idp.extensions import db
from idp.ops.doctor import check_clock, check_issuer
from tests.conftest import is_postgres
from tests.integration.ops.test_health import stamp_head
from tests.redis_support import redis_url  # noqa: F401  (fixture)
from tests.support import free_port


def doctor(app, *args: str):
    return CliRunner().invoke(main, ["doctor", *args], obj=app, catch_exceptions=False)


def lines(result) -> dict[str, str]:
    """{check: its line} from the command's output."""
    found = {}
    for line in result.output.splitlines():
        state, _, rest = line.partition("  ")
        found[rest.split(":")[0].strip()] = line
    return found


def test_a_ready_deployment_passes_every_check_and_sends_the_test_message(app, mailbox):
    stamp_head(app)
    result = doctor(app, "--mail-to", "ops@example.ca")
    assert result.exit_code == 0, result.output
    found = lines(result)
    for check in ("settings", "issuer", "database", "signing keys", "clock", "rate limits", "smtp"):
        assert found[check].startswith("ok"), result.output
    assert "migrations at head" in found["database"]
    message = mailbox.last_to("ops@example.ca")  # sent synchronously by the command
    assert "idp doctor" in message["Subject"]


def test_without_mail_to_it_only_connects_to_the_relay(app, mailbox):
    stamp_head(app)
    result = doctor(app)
    assert result.exit_code == 0, result.output
    assert "add --mail-to" in lines(result)["smtp"]
    assert mailbox.to("ops@example.ca") == []


def test_an_unmigrated_database_says_what_to_run(app):
    with app.app_context():  # one PostgreSQL database serves the run: forget earlier stamps
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    result = doctor(app)
    assert result.exit_code == 1
    assert lines(result)["database"].startswith("FAIL") and "idp db upgrade" in lines(result)["database"]


@pytest.mark.settings(SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
def test_an_smtp_relay_that_is_down_fails_alone(app):
    stamp_head(app)
    result = doctor(app, "--mail-to", "ops@example.ca")
    assert result.exit_code == 1
    found = lines(result)
    assert found["smtp"].startswith("FAIL") and f":{app.config['SMTP_PORT']}" in found["smtp"]
    assert found["database"].startswith("ok")  # checked all the same


def test_redis_is_checked_when_rate_limits_live_there(request, database_uri, clock, redis_url):  # noqa: F811
    from tests.conftest import build_app

    for uri, expected in ((redis_url, "ok"), (f"redis://127.0.0.1:{free_port()}/0", "FAIL")):
        app = build_app(database_uri, clock, RATELIMIT_STORAGE_URI=uri)
        stamp_head(app)
        result = doctor(app)
        assert lines(result)["redis"].startswith(expected), result.output
        assert result.exit_code == (0 if expected == "ok" else 1)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize(("env", "issuer", "ok"), [
    ("production", "https://login.example.ca", True),
    ("production", "http://login.example.ca", False),
    ("production", "http://127.0.0.1:5000", False),
    ("development", "http://127.0.0.1:5000", True),
])
def test_the_issuer_must_be_https_in_production(env, issuer, ok):
    assert check_issuer(SimpleNamespace(ENV=env, OIDC_ISSUER=issuer)).ok is ok


def test_a_host_whose_clock_drifts_from_the_database_fails(app, database_uri):
    with app.app_context():
        if not is_postgres(database_uri):
            assert check_clock(db.engine).ok  # SQLite shares this host's clock
            return
        assert check_clock(db.engine).ok
        drifted = check_clock(db.engine, now=lambda: datetime.now(UTC) + timedelta(seconds=30))
    assert not drifted.ok and "NTP" in drifted.detail
