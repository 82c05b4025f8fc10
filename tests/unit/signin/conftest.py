from __future__ import annotations

import pytest

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.security.passwords import PasswordHasher
from idp.signin.services import SigninService
from idp.signin.sessions import SessionService

PASSWORD = "correct horse battery staple"


class CountingPasswordHasher(PasswordHasher):
    """A real argon2 hasher that also records which hashes it verified against."""

    def __init__(self):
        super().__init__(time_cost=1, memory_cost=1024)
        self.verified: list[str | None] = []

    def verify(self, password_hash, plain_password):
        self.verified.append(password_hash)
        return super().verify(password_hash, plain_password)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app_context()


@pytest.fixture
def passwords():
    return CountingPasswordHasher()


@pytest.fixture
def signin_service(ctx, passwords):
    return SigninService(db.session, ctx.settings, ctx.clock, ctx.hasher, passwords)


@pytest.fixture
def session_service(ctx):
    return SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher)


@pytest.fixture
def user(ctx, passwords):
    return AccountService(db.session, ctx.settings, ctx.clock, passwords).create_user(
        "ana@example.ca", "Ana", "Tremblay", PASSWORD
    )
