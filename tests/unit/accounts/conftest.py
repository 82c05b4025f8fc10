"""Fixtures of the account unit tests: the app's collaborators and one person."""

from __future__ import annotations

import pytest

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app_context()


@pytest.fixture
def user(ctx):
    created = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(
        "ana@example.ca", "Ana", "Tremblay", PASSWORD
    )
    db.session.commit()
    return created
