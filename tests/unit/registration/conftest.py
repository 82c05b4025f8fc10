from __future__ import annotations

import pytest

from idp.context import app_context
from idp.extensions import db
from idp.invitations.services import InvitationService
from idp.mail.delivery import get_mail_service
from idp.registration.codes import CodeRegistrationService
from idp.registration.links import LinkRegistrationService


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app_context()


@pytest.fixture
def service(ctx):
    return CodeRegistrationService(db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords, get_mail_service())


@pytest.fixture
def invitations(ctx):
    return InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher)


@pytest.fixture
def make_invitation(invitations):
    def make(kind="link", email="zoe@example.ca", **extra):
        extra.setdefault("inviter_name", "École Imaginaire")
        invitation, secret = invitations.create(
            email=email, kind=kind, created_by_kind="operator", created_by_id="ops", **extra
        )
        db.session.flush()
        return invitation, secret

    return make


@pytest.fixture
def link_service(ctx):
    return LinkRegistrationService(db.session, ctx.settings, ctx.clock, ctx.hasher, ctx.passwords, get_mail_service())
