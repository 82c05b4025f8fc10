"""RobotCheckService on a real database: signed, expiring, single-use challenges, and no
input that makes it raise anything but RobotCheckFailed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import altcha
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from wtforms import Form

from idp.context import app_context
from idp.extensions import db
from idp.robot.errors import RobotCheckFailed
from idp.robot.forms import RobotCheckField
from idp.robot.models import SpentRobotChallenge
from idp.robot.services import RobotCheckService
from idp.robot.web import ERROR_MESSAGES, check_robot
from tests.robot_support import solve


@pytest.fixture
def robot(app):
    with app.app_context():
        ctx = app_context()
        yield RobotCheckService(db.session, ctx.settings, ctx.clock)


def encode(fields: dict) -> str:
    return base64.b64encode(json.dumps(fields).encode()).decode()


def decode(payload: str) -> dict:
    return json.loads(base64.b64decode(payload))


def refused(robot, payload) -> str:
    with pytest.raises(RobotCheckFailed) as raised:
        robot.verify(payload)
    return raised.value.reason


def spent_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SpentRobotChallenge))


def test_a_challenge_is_signed_and_carries_its_expiry(robot, clock):
    challenge = robot.new_challenge()
    assert set(challenge) == {"algorithm", "challenge", "maxnumber", "salt", "signature"}
    assert challenge["algorithm"] == "SHA-256"
    assert challenge["maxnumber"] == 1000  # config/test.toml
    expires = int(parse_qs(challenge["salt"].partition("?")[2])["expires"][0])
    assert datetime.fromtimestamp(expires, UTC) == clock() + timedelta(seconds=600)
    assert len(challenge["signature"]) == 64 and len(challenge["challenge"]) == 64
    assert robot.new_challenge()["salt"] != challenge["salt"]


def test_a_solved_challenge_passes_once(robot):
    payload = solve(robot.new_challenge())
    robot.verify(payload)
    assert refused(robot, payload) == "spent"


def test_a_spent_challenge_stays_spent_after_commit(app, robot):
    payload = solve(robot.new_challenge())
    robot.verify(payload)
    db.session.commit()
    db.session.remove()
    with app.app_context():
        ctx = app_context()
        again = RobotCheckService(db.session, ctx.settings, ctx.clock)
        assert refused(again, payload) == "spent"


class RobotOnlyForm(Form):
    altcha = RobotCheckField()


def test_a_passed_check_stays_spent_when_the_rest_of_the_form_rolls_back(app, robot):
    """check_robot() commits the spend at once: a form that then fails (and rolls back, or
    commits nothing) cannot hand the answer back for another submission."""
    payload = solve(robot.new_challenge())
    with app.test_request_context("/", method="POST"):
        assert check_robot(RobotOnlyForm(data={"altcha": payload}).altcha)
        db.session.rollback()  # the form failed for another reason
        again = RobotOnlyForm(data={"altcha": payload})
        assert not check_robot(again.altcha)
        assert again.altcha.errors == [str(ERROR_MESSAGES[RobotCheckFailed])]
    db.session.remove()
    with app.app_context():
        ctx = app_context()
        assert refused(RobotCheckService(db.session, ctx.settings, ctx.clock), payload) == "spent"


def test_the_service_alone_spends_in_the_callers_transaction(robot):
    """The service never commits (design.md): the mark is final only once committed, which is
    why check_robot() commits it before the rest of the form."""
    payload = solve(robot.new_challenge())
    robot.verify(payload)
    db.session.rollback()
    robot.verify(payload)
    db.session.commit()
    assert refused(robot, payload) == "spent"


def test_the_spent_mark_is_a_keyed_hash_not_the_challenge(robot):
    challenge = robot.new_challenge()
    robot.verify(solve(challenge))
    row = db.session.scalars(select(SpentRobotChallenge)).one()
    assert row.challenge_hash != challenge["challenge"] and len(row.challenge_hash) == 64
    assert row.expires_at == datetime.fromtimestamp(
        int(parse_qs(challenge["salt"].partition("?")[2])["expires"][0]), UTC)


def test_a_forged_signature_is_refused(robot):
    fields = decode(solve(robot.new_challenge()))
    fields["signature"] = ("0" if fields["signature"][0] != "0" else "1") + fields["signature"][1:]
    assert refused(robot, encode(fields)) == "forged"


def test_a_wrong_number_is_refused(robot):
    fields = decode(solve(robot.new_challenge()))
    fields["number"] = (fields["number"] + 1) % 1001
    assert refused(robot, encode(fields)) == "forged"


def test_a_later_expiry_written_into_the_salt_is_refused(robot, clock):
    fields = decode(solve(robot.new_challenge()))
    later = int((clock() + timedelta(days=365)).timestamp())
    nonce = fields["salt"].partition("?")[0]
    fields["salt"] = f"{nonce}?expires={later}&"
    assert refused(robot, encode(fields)) == "forged"


def test_a_challenge_signed_with_another_key_is_refused(app, robot):
    ctx = app_context()
    other = RobotCheckService(db.session, type(ctx.settings)({**ctx.settings, "SECRETS_HASH_KEY": "another key"}),
                              ctx.clock)
    assert refused(robot, solve(other.new_challenge())) == "forged"


def test_a_self_made_challenge_without_our_key_is_refused(robot):
    made = altcha.create_challenge_v1(algorithm="SHA-256", max_number=10, hmac_key="guess",
                                      expires=datetime.now(UTC) + timedelta(minutes=5))
    challenge = {**made.to_dict(), "maxnumber": made.max_number}
    assert refused(robot, solve(challenge)) == "forged"


def test_an_expired_challenge_is_refused_by_the_injected_clock(robot, clock):
    payload = solve(robot.new_challenge())
    clock.advance(seconds=600)
    assert refused(robot, payload) == "expired"


def test_a_challenge_just_before_its_expiry_passes(robot, clock):
    payload = solve(robot.new_challenge())
    clock.advance(seconds=599)
    robot.verify(payload)


@pytest.mark.settings(ROBOT_CHECK_TTL=60, ROBOT_CHECK_MAX_NUMBER=50)
def test_the_settings_set_the_lifetime_and_the_work(robot, clock):
    challenge = robot.new_challenge()
    assert challenge["maxnumber"] == 50
    clock.advance(seconds=61)
    assert refused(robot, solve(challenge)) == "expired"


def test_a_signed_salt_without_an_expiry_is_refused(robot):
    key = robot._signing_key
    made = altcha.create_challenge_v1(algorithm="SHA-256", max_number=10, hmac_key=key)
    challenge = {**made.to_dict(), "maxnumber": made.max_number}
    assert refused(robot, solve(challenge)) == "expired"


def test_another_algorithm_is_refused_even_when_signed(robot, clock):
    made = altcha.create_challenge_v1(algorithm="SHA-1", max_number=10, hmac_key=robot._signing_key,
                                      expires=clock() + timedelta(minutes=5))
    challenge = {**made.to_dict(), "maxnumber": made.max_number}
    assert refused(robot, solve(challenge)) == "malformed"


@pytest.mark.parametrize("payload", [None, ""])
def test_no_answer_is_missing(robot, payload):
    assert refused(robot, payload) == "missing"


def valid_fields(robot) -> dict:
    return decode(solve(robot.new_challenge()))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda f: {**f, "number": str(f["number"])},
        lambda f: {**f, "number": True},
        lambda f: {**f, "number": -1},
        lambda f: {**f, "number": 2**80},
        lambda f: {**f, "number": 1.0},
        lambda f: {**f, "algorithm": "sha-256"},
        lambda f: {**f, "challenge": f["challenge"].upper()},
        lambda f: {**f, "challenge": "\ud800" * 64},
        lambda f: {**f, "signature": None},
        lambda f: {**f, "salt": ["a"]},
        lambda f: {**f, "salt": "short"},
        lambda f: {**f, "salt": "é" * 20},
        lambda f: {key: value for key, value in f.items() if key != "salt"},
        lambda f: [f],
        lambda f: "a string",
        lambda f: None,
    ],
)
def test_malformed_fields_are_refused(robot, mutate):
    assert refused(robot, encode(mutate(valid_fields(robot)))) == "malformed"


@pytest.mark.parametrize(
    "payload",
    ["not base64 !", "bm90IGpzb24=", base64.b64encode(b"\xff\xfe").decode(), "e30",
     base64.b64encode(b"[" * 1500 + b"]" * 1500).decode(), "A" * 5000, ["a list"], 42],
)
def test_undecodable_payloads_are_refused(robot, payload):
    assert refused(robot, payload) == "malformed"


@hypothesis_settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.one_of(st.text(max_size=3000), st.binary(max_size=600).map(lambda b: base64.b64encode(b).decode()),
                 st.dictionaries(st.sampled_from(["algorithm", "challenge", "number", "salt", "signature"]),
                                 st.one_of(st.none(), st.integers(), st.text(), st.booleans())).map(encode)))
def test_no_input_raises_anything_but_the_refusal(robot, payload):
    with pytest.raises(RobotCheckFailed):
        robot.verify(payload)


@pytest.mark.settings(ROBOT_CHECK_ENABLED=False)
def test_a_disabled_check_lets_everything_through(robot):
    assert not robot.is_enabled
    robot.verify(None)
    robot.verify("garbage")
    assert spent_count() == 0


def test_expired_spent_marks_are_pruned_by_later_checks(robot, clock):
    for _ in range(3):
        robot.verify(solve(robot.new_challenge()))
    assert spent_count() == 3
    clock.advance(seconds=601)
    robot.verify(solve(robot.new_challenge()))
    assert spent_count() == 1


def test_pruning_is_bounded_and_keeps_live_marks(robot, clock):
    for _ in range(5):
        robot.verify(solve(robot.new_challenge()))
    clock.advance(seconds=300)
    live = solve(robot.new_challenge())
    robot.verify(live)
    clock.advance(seconds=301)  # the first five have expired, the sixth has not
    assert robot.prune_spent(limit=2) == 2
    assert robot.prune_spent() == 3
    assert robot.prune_spent() == 0
    assert spent_count() == 1
    assert refused(robot, live) == "spent"


def test_two_racing_uses_of_one_answer_let_exactly_one_through(app, robot):
    """Each request has its own session and transaction; the unique spent mark decides."""
    import threading

    payload = solve(robot.new_challenge())
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def use() -> None:
        with app.app_context():
            ctx = app_context()
            service = RobotCheckService(db.session, ctx.settings, ctx.clock)
            barrier.wait()
            try:
                service.verify(payload)
                db.session.commit()
                outcomes.append("accepted")
            except RobotCheckFailed as error:
                db.session.rollback()
                outcomes.append(error.reason)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["accepted", "spent"]
