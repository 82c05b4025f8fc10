"""Pending accounts (users.activated_at NULL): the AccountService side of registration."""

from __future__ import annotations

import pytest

from idp.accounts.errors import AccountError, EmailAlreadyRegistered, InvalidName, InvalidPassword
from idp.accounts.services import AccountService
from idp.extensions import db


@pytest.fixture
def accounts(ctx):
    return AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords)


def test_accounts_made_by_operators_are_active_at_once(accounts):
    user = accounts.create_user("ana@example.ca", "Ana", "Tremblay", "a password")
    assert user.is_active and not user.is_pending and user.activated_at == user.created_at


def test_a_pending_account_cannot_sign_in_until_activated(accounts, ctx):
    user = accounts.create_pending_user(" Zoe@Example.ca", "Zoé", "Citoyenne", locale="fr")
    assert user.email == "zoe@example.ca" and user.password_hash is None and not user.email_verified
    assert user.is_pending and not user.is_active
    accounts.activate(user)
    assert user.is_active and user.email_verified and user.activated_at == ctx.clock()


def test_a_pending_account_may_get_its_password_at_creation(accounts, ctx):
    user = accounts.create_pending_user("zoe@example.ca", "Zoé", "C", plain_password="pw pw pw pw", phone_number="+15145550123")
    assert ctx.passwords.verify(user.password_hash, "pw pw pw pw") and user.phone_number == "+15145550123"


def test_pending_accounts_follow_the_same_rules(accounts):
    accounts.create_user("ana@example.ca", "Ana", "Tremblay", "a password")
    with pytest.raises(EmailAlreadyRegistered):
        accounts.create_pending_user("ANA@example.ca", "Ana", "T")
    with pytest.raises(InvalidName):
        accounts.create_pending_user("zoe@example.ca", "  ", "T")
    with pytest.raises(InvalidPassword):
        accounts.create_pending_user("zoe@example.ca", "Zoé", "T", plain_password="")


def test_only_a_pending_accounts_details_are_replaced(accounts):
    pending = accounts.create_pending_user("zoe@example.ca", "Zoé", "Citoyenne")
    accounts.update_pending_user(pending, "Zoë", "Citoyen", plain_password="new pw", phone_number="+15145550199", locale="en")
    assert (pending.given_name, pending.family_name, pending.locale, pending.phone_number) == (
        "Zoë", "Citoyen", "en", "+15145550199")
    active = accounts.create_user("ana@example.ca", "Ana", "Tremblay", "a password")
    with pytest.raises(AccountError):
        accounts.update_pending_user(active, "Someone", "Else")
    assert active.given_name == "Ana"
