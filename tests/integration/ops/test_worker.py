"""`idp worker` (issue 15): it sends the outbox to a real SMTP server, prunes expired rows
and keeps live ones, never sends a message twice with two workers at once, and stops
cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import func, select, text

from idp.extensions import db
from idp.mail.delivery import deliver, get_mail_service
from idp.mail.models import OutboxMessage, OutboxState
from idp.oidc.models import AuthorizationCode, Token
from idp.ops.worker import Worker
from idp.robot.models import SpentRobotChallenge
from idp.signin.models import SigninTransaction, UserSession
from tests.conftest import is_postgres
from tests.oidc_support import make_user

FIXTURE_TEMPLATES = Path(__file__).resolve().parents[2] / "fixtures" / "templates"
CONFIG = Path(__file__).resolve().parents[3] / "config" / "test.toml"


@pytest.fixture
def app(app):
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(FIXTURE_TEMPLATES)])
    return app


def queue(app, *addresses: str) -> None:
    with app.app_context():
        for address in addresses:
            get_mail_service().enqueue(to=address, template="hello", locale="en",
                                       context={"name": "Ana", "code": "654321", "link": "http://127.0.0.1:5000/x"})
        db.session.commit()


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
def test_worker_sends_queued_mail(app, mailbox):
    queue(app, "ana@example.ca", "bob@example.ca")
    Worker(app).run_once()
    assert mailbox.wait_for("ana@example.ca") and mailbox.wait_for("bob@example.ca")
    with app.app_context():
        assert set(db.session.scalars(select(OutboxMessage.state))) == {OutboxState.SENT}


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False, PRUNE_AFTER=3600, WORKER_PRUNE_BATCH=2)
def test_worker_prunes_expired_rows_and_keeps_live_ones(app, clock):
    """Rows that expired more than PRUNE_AFTER ago go, in batches of WORKER_PRUNE_BATCH;
    live ones, and ones that expired only just now, stay."""
    user_id = make_user(app)
    now = clock()
    gone, recent, live = now - timedelta(hours=2), now - timedelta(minutes=5), now + timedelta(hours=1)
    with app.app_context():
        for index, when in enumerate([gone, gone, gone, recent, live]):
            db.session.add(SpentRobotChallenge(challenge_hash=f"{index:064d}", expires_at=when))
            db.session.add(SigninTransaction(handle_hash=f"t{index:063d}", expires_at=when))
            db.session.add(AuthorizationCode(
                code_hash=f"c{index:063d}", grant_id=f"g{index}", client_id="rp", user_id=user_id,
                redirect_uri="https://rp.example/cb", scope="openid", auth_time=now, expires_at=when))
        sessions = {
            "expired": UserSession(handle_hash="s" * 64, sid="sid-expired", user_id=user_id, auth_time=now, acr="1",
                                   expires_at=gone),
            "ended": UserSession(handle_hash="e" * 64, sid="sid-ended", user_id=user_id, auth_time=now, acr="1",
                                 expires_at=live, ended_at=gone),
            "live": UserSession(handle_hash="l" * 64, sid="sid-live", user_id=user_id, auth_time=now, acr="1",
                                expires_at=live),
        }
        db.session.add_all(sessions.values())
        tokens = {
            "dead": {"access_expires_at": gone, "refresh_expires_at": gone},
            "access only, dead": {"access_expires_at": gone, "refresh_expires_at": None},
            "refresh still alive": {"access_expires_at": gone, "refresh_expires_at": live},
        }
        for index, (name, times) in enumerate(tokens.items()):
            db.session.add(Token(access_token_hash=f"a{index:063d}", grant_id=name, client_id="rp", user_id=user_id,
                                 scope="openid", grant_scope="openid", issued_at=now - timedelta(days=1), **times))
        old_sent = OutboxMessage(to_address="x@example.ca", template="hello", locale="en", created_at=now - timedelta(days=3),
                                 next_attempt_at=now, state=OutboxState.SENT)
        old_queued = OutboxMessage(to_address="y@example.ca", template="hello", locale="en", created_at=now - timedelta(days=3),
                                   next_attempt_at=now + timedelta(days=1), state=OutboxState.QUEUED)
        db.session.add_all([old_sent, old_queued])
        db.session.commit()

        deleted = Worker(app).prune()

        assert deleted["robot_challenges_spent"] == 3 and deleted["signin_transactions"] == 3
        assert deleted["authorization_codes"] == 3 and deleted["sessions"] == 2 and deleted["tokens"] == 2
        assert deleted["mail_outbox"] == 1
        assert sorted(db.session.scalars(select(SpentRobotChallenge.expires_at))) == [recent, live]
        assert sorted(db.session.scalars(select(SigninTransaction.expires_at))) == [recent, live]
        assert sorted(db.session.scalars(select(AuthorizationCode.expires_at))) == [recent, live]
        assert list(db.session.scalars(select(UserSession.sid))) == ["sid-live"]
        assert list(db.session.scalars(select(Token.grant_id))) == ["refresh still alive"]
        assert list(db.session.scalars(select(OutboxMessage.to_address))) == ["y@example.ca"]


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
def test_two_workers_at_once_never_send_a_message_twice(app, mailbox):
    """Run on PostgreSQL (tests/pg.sh) for the real thing: FOR UPDATE SKIP LOCKED."""
    addresses = [f"person{index}@example.ca" for index in range(30)]
    queue(app, *addresses)
    start = threading.Barrier(2)

    def work() -> None:
        start.wait()
        Worker(app, jobs=("mail",)).run_once()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert mailbox.wait_for(addresses[-1])
    ids = [message["Message-ID"] for message in mailbox.messages]
    assert len(ids) == len(set(ids)) == 30
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(OutboxMessage.state == OutboxState.SENT)) == 30
        assert set(db.session.scalars(select(OutboxMessage.attempts))) == {1}


def test_a_row_another_sender_holds_is_skipped_without_waiting(app, database_uri):
    """PostgreSQL: claim_next passes over a locked row at once (SKIP LOCKED) instead of
    waiting for the other sender's transaction."""
    if not is_postgres(database_uri):
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has one writer at a time")
    queue(app, "first@example.ca", "second@example.ca")
    with app.app_context():
        first_id = db.session.scalar(select(func.min(OutboxMessage.id)))
        with db.engine.connect() as other:
            other.execute(text("SELECT id FROM mail_outbox WHERE id = :id FOR UPDATE"), {"id": first_id})
            started = time.monotonic()
            message = get_mail_service().claim_next()
            db.session.commit()
            assert message is not None and message.to_address == "second@example.ca"
            assert time.monotonic() - started < 1
            other.rollback()


@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False)
def test_a_stop_request_finishes_the_message_being_sent_and_leaves_the_rest(app, mailbox):
    queue(app, "ana@example.ca", "bob@example.ca", "cy@example.ca")
    worker = Worker(app, jobs=("mail",))
    with app.app_context():
        sent, failed = deliver(stop=lambda: bool(mailbox.messages) or worker.is_stopping)
    assert (sent, failed) == (1, 0)
    with app.app_context():
        states = list(db.session.scalars(select(OutboxMessage.state).order_by(OutboxMessage.id)))
    assert states == [OutboxState.SENT, OutboxState.QUEUED, OutboxState.QUEUED]


def test_sigterm_stops_the_worker_cleanly(app, database_uri, tmp_path):
    env = {**os.environ, "IDP_CONFIG": str(CONFIG), "IDP_SQLALCHEMY_DATABASE_URI": database_uri,
           "IDP_MAIL_SEND_AFTER_RESPONSE": "false", "PYTHONUNBUFFERED": "1", "IDP_SMTP_PORT": "9"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen([str(Path(sys.executable).parent / "idp"), "worker", "--interval", "0.2"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "worker started" in process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "worker stopped" in out


# Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
@pytest.mark.settings(MAIL_SEND_AFTER_RESPONSE=False, SMTP_PORT=9)
def test_a_relay_that_is_down_is_tried_once_per_pass_not_once_per_message(app):
    queue(app, "ana@example.ca", "bob@example.ca", "cy@example.ca")
    Worker(app, jobs=("mail",)).run_once()
    with app.app_context():
        attempts = list(db.session.scalars(select(OutboxMessage.attempts).order_by(OutboxMessage.id)))
    assert attempts == [1, 0, 0]
