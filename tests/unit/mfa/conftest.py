from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.accounts.services import AccountService
from idp.accounts.throttle import SigninThrottle
from idp.context import app_context
from idp.extensions import db
from idp.mail.models import OutboxMessage
from idp.mail.services import MailService
from idp.mfa.base import FactorContext
from idp.mfa.services import EmailCodeService
from idp.signin.services import SigninService

PASSWORD = "correct horse battery staple"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app_context()


@pytest.fixture
def mail(ctx):
    return MailService(db.session, ctx.settings, ctx.clock, ctx.secret_box)


@pytest.fixture
def throttle(ctx, mail):
    return SigninThrottle(db.session, ctx.settings, ctx.clock, mail=mail)


@pytest.fixture
def codes(ctx, mail, throttle):
    return EmailCodeService(db.session, ctx.settings, ctx.clock, ctx.hasher, mail, throttle)


@pytest.fixture
def user(ctx):
    created = AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(
        "ana@example.ca", "Ana", "Tremblay", PASSWORD
    )
    db.session.commit()
    return created


def new_signin(ctx, user_id: int):
    txn, _ = SigninService(db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords).begin()
    txn.user_id = user_id
    db.session.flush()
    return txn


@pytest.fixture
def txn(ctx, user):
    return new_signin(ctx, user.id)


@pytest.fixture
def context(txn):
    return FactorContext(transaction_id=txn.id, locale="en", ip_address="192.0.2.7", user_agent="pytest")


def sent_codes(mail, template: str = "signin-code") -> list[str]:
    """The plain codes the outbox holds, oldest first (what the person would read)."""
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id)
    )
    return [mail.context_of(message)["code"] for message in messages]
