"""The argon2id work of a sign-in or a password change runs with no database lock held
(issue 10): another connection can write to the same account row while it runs. It used to
run under the row's lock, which on SQLite is the whole database's write lock."""

from __future__ import annotations

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from idp.accounts.errors import IncorrectCurrentPassword
from idp.accounts.home import AccountHomeService
from idp.accounts.models import User
from idp.accounts.throttle import SigninThrottle
from idp.extensions import db
from idp.mail.services import MailService
from idp.signin.errors import InvalidCredentials
from idp.signin.services import SigninService
from tests.unit.accounts.conftest import PASSWORD

NEW_PASSWORD = "42 Lanternes bleues sous la pluie!"


class ProbingHasher:
    """The app's hasher, which first asks another connection to write the account row with
    a 50 ms lock wait: records True when it could (no lock held), False when it waited out."""

    def __init__(self, hasher, user_id: int):
        self.hasher, self.user_id, self.writable = hasher, user_id, []

    def _probe(self) -> None:
        with Session(db.engine) as other:
            try:
                if db.engine.dialect.name == "sqlite":
                    other.execute(text("PRAGMA busy_timeout = 50"))
                else:
                    other.execute(text("SET lock_timeout = '50ms'"))
                other.execute(update(User).where(User.id == self.user_id).values(locale=User.locale))
                other.commit()
                self.writable.append(True)
            except OperationalError:
                other.rollback()
                self.writable.append(False)

    def verify(self, *args):
        self._probe()
        return self.hasher.verify(*args)

    def hash(self, *args):
        self._probe()
        return self.hasher.hash(*args)

    def needs_rehash(self, *args):
        return self.hasher.needs_rehash(*args)


@pytest.fixture
def probe(ctx, user):
    return ProbingHasher(ctx.passwords, user.id)


@pytest.mark.parametrize("password", [PASSWORD, "not the password"])
def test_a_sign_in_checks_the_password_with_no_lock_held(ctx, user, probe, password):
    throttle = SigninThrottle(db.session, ctx.settings, ctx.clock)
    service = SigninService(db.session, ctx.settings, ctx.clock, ctx.hasher, probe, throttle, commit=db.session.commit)
    txn, _ = service.begin()
    db.session.commit()
    try:
        service.verify_password(txn, "ana@example.ca", password)
    except InvalidCredentials:
        pass
    db.session.commit()
    assert probe.writable == [True]


@pytest.mark.parametrize("current", [PASSWORD, "not the password"])
def test_a_password_change_hashes_with_no_lock_held(ctx, user, probe, current):
    mail = MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)
    home = AccountHomeService(
        db.session, ctx.settings, ctx.clock, ctx.hasher, probe, mail,
        throttle=SigninThrottle(db.session, ctx.settings, ctx.clock, mail=mail), commit=db.session.commit,
    )
    home.accounts.passwords = probe
    try:
        home.change_password(user.id, keep_session_id=0, plain_current=current, plain_new=NEW_PASSWORD, locale="en")
    except IncorrectCurrentPassword:
        pass
    db.session.commit()
    assert all(probe.writable) and len(probe.writable) == (2 if current == PASSWORD else 1)
