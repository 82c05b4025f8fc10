"""Sign-ins at once, with the production password hash and lock timeout (issue 10).

The account row used to be locked before the argon2id check and kept locked through it: on
SQLite that is the whole database's write lock, so a handful of simultaneous sign-ins made
each other (and every other writer) wait past DATABASE_LOCK_TIMEOUT_MS and answer 503.
Now the attempt is counted in one short transaction, checked with none open, and settled
in another (idp/accounts/throttle.py); these tests hold both halves of that: nobody waits
for someone else's hash, and no concurrent guess slips past the lockout.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from idp.config import DEFAULTS
from idp.extensions import db
from idp.security.passwords import PasswordHasher
from tests.integration.signin.support import PASSWORD, SignIn, make_user

WORKERS = 8
INCORRECT = "Incorrect email or password."


def production_hashes(app, emails: list[str]) -> None:
    """Hash like production (the test config's hasher is cheap), so a check takes the tens
    of milliseconds it takes in production."""
    hasher = PasswordHasher()
    app.extensions["idp"].passwords = hasher
    with app.app_context():
        password_hash = hasher.hash(PASSWORD)
        db.session.execute(update(User).where(User.email.in_(emails)).values(password_hash=password_hash))
        db.session.commit()


def at_once(app, attempts: list[tuple[str, str]]) -> list:
    """Each (email, password) from its own browser and thread, submitted together; returns
    the answers in order."""
    browsers = [SignIn(app.test_client()) for _ in attempts]
    pages = [browser.start() for browser in browsers]
    barrier = threading.Barrier(len(attempts))
    answers: list = [None] * len(attempts)

    def submit(index: int) -> None:
        email, password = attempts[index]
        barrier.wait(timeout=30)
        try:
            answers[index] = browsers[index].submit_password(email, password, pages[index])
        except BaseException as error:  # noqa: BLE001  (reported below with the answers)
            answers[index] = error

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


@pytest.mark.settings(DATABASE_LOCK_TIMEOUT_MS=DEFAULTS["DATABASE_LOCK_TIMEOUT_MS"], SIGNIN_RATE_LIMIT="1000 per minute")
def test_simultaneous_sign_ins_all_succeed_with_the_production_lock_timeout(app):
    emails = [f"person{index}@example.ca" for index in range(WORKERS)]
    for email in emails:
        make_user(app, email)
    production_hashes(app, emails)

    answers = at_once(app, [(email, PASSWORD) for email in emails])

    statuses = [getattr(answer, "status_code", answer) for answer in answers]
    assert statuses == [303] * WORKERS, statuses


@pytest.mark.settings(SIGNIN_RATE_LIMIT="1000 per minute", SIGNIN_LOCK_THRESHOLD=3, SIGNIN_DELAY_AFTER=100)
def test_simultaneous_wrong_guesses_are_each_counted_and_none_passes_the_lock(app):
    """Every guess is counted before it is checked, so with a threshold of 3 at most three
    of eight simultaneous guesses are checked, each of those is a failure on the account,
    the third locks it once, and the other five are refused unchecked. (The test config's
    lock timeout: this one is about counting, the test above about waiting.)"""
    user_id = make_user(app)
    production_hashes(app, ["ana@example.ca"])

    answers = at_once(app, [("ana@example.ca", "not the password")] * WORKERS)

    assert [getattr(answer, "status_code", answer) for answer in answers] == [422] * WORKERS
    assert all(INCORRECT in answer.text for answer in answers)
    with app.app_context():
        user = db.session.get(User, user_id)
        reasons = list(db.session.scalars(
            select(SecurityEvent.details["reason"].as_string())
            .where(SecurityEvent.user_id == user_id, SecurityEvent.tag == EventTag.SIGNIN_FAILURE)
        ))
        locks = db.session.scalar(select(func.count(SecurityEvent.id)).where(
            SecurityEvent.user_id == user_id, SecurityEvent.tag == EventTag.ACCOUNT_LOCKED))
        assert sorted(reasons) == ["locked"] * (WORKERS - 3) + ["wrong_password"] * 3
        assert user.failed_signin_count == 3 and user.locked_until is not None
        assert locks == 1
