from __future__ import annotations

import pytest

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.mail.services import MailService
from idp.recovery.services import RecoveryService

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "Tulipe-Orange-42-Ciel"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app_context()


@pytest.fixture
def activations() -> list:
    """Accounts whose activation email the registration feature was asked to send again."""
    return []


@pytest.fixture
def cleared() -> list:
    """Accounts whose sign-in failure counter was asked to be cleared."""
    return []


def build_recovery_service(ctx, session, activations: list, cleared: list) -> RecoveryService:
    return RecoveryService(
        session,
        ctx.settings,
        ctx.clock,
        ctx.hasher,
        ctx.passwords,
        MailService(session, ctx.settings, ctx.clock, ctx.secret_box),
        resend_activation=activations.append,
        clear_failures=cleared.append,
    )


@pytest.fixture
def recovery(ctx, activations, cleared) -> RecoveryService:
    return build_recovery_service(ctx, db.session, activations, cleared)


@pytest.fixture
def accounts(ctx) -> AccountService:
    return AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords)


@pytest.fixture
def user(accounts):
    user = accounts.create_user("ana@example.ca", "Ana", "Tremblay", PASSWORD)
    db.session.commit()
    return user
