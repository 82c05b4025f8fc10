"""AccountService on a real database: canonical addresses, hashing, subjects."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.accounts.errors import EmailAlreadyRegistered, InvalidEmail, InvalidName, InvalidPassword
from idp.accounts.models import User
from idp.accounts.services import AccountService, canonical_email
from idp.context import app_context
from idp.extensions import db


@pytest.fixture
def accounts(app):
    with app.app_context():
        ctx = app_context()
        yield AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords)


def test_create_user_stores_canonical_email_and_an_argon2id_hash(accounts):
    user = accounts.create_user("  Ana.Tremblay@Example.CA ", "Ana", "Tremblay", "correct horse battery staple")
    assert user.email == "ana.tremblay@example.ca"
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    assert accounts.passwords.verify(user.password_hash, "correct horse battery staple")
    assert user.email_verified is True


def test_create_user_keeps_optional_phone_and_verification_flag(accounts):
    user = accounts.create_user("b@example.ca", "B", "C", "pw", phone_number="+15145550100", email_verified=False)
    assert user.phone_number == "+15145550100"
    assert user.email_verified is False


def test_same_address_in_another_case_is_one_account(accounts):
    accounts.create_user("ana@example.ca", "Ana", "Tremblay", "first password")
    with pytest.raises(EmailAlreadyRegistered):
        accounts.create_user("ANA@Example.ca", "Other", "Person", "second password")


@pytest.mark.parametrize(
    "address",
    ["a@b.c\r\nBcc: x@y.z", "a@b.c\nx", "no-at-sign.example.ca", "two@@example.ca", "a b@example.ca",
     "a@nodot", "", "x" * 65 + "@example.ca", "a@" + "b" * 320 + ".ca", "nul\x00@example.ca"],
)
def test_malformed_or_header_injecting_addresses_are_refused(accounts, address):
    with pytest.raises(InvalidEmail):
        accounts.create_user(address, "Ana", "Tremblay", "a password")


@pytest.mark.parametrize("given_name", ["", "   ", "Ana\r\nBcc: x@y.z", "x" * 201])
def test_empty_long_or_multiline_names_are_refused(accounts, given_name):
    with pytest.raises(InvalidName):
        accounts.create_user("ana@example.ca", given_name, "Tremblay", "a password")


@pytest.mark.parametrize("password", ["", "x" * 1025])
def test_empty_or_oversized_passwords_are_refused_before_hashing(accounts, password):
    with pytest.raises(InvalidPassword):
        accounts.create_user("ana@example.ca", "Ana", "Tremblay", password)


def test_subjects_are_random_and_unrelated_to_the_address(accounts):
    first = accounts.create_user("one@example.ca", "One", "Person", "pw one")
    second = accounts.create_user("two@example.ca", "Two", "Person", "pw two")
    assert first.subject != second.subject
    assert len(first.subject) == 32  # 24 bytes, base64url
    assert "one" not in first.subject.lower()


def test_two_users_with_one_password_get_different_hashes(accounts):
    first = accounts.create_user("one@example.ca", "One", "Person", "same password")
    second = accounts.create_user("two@example.ca", "Two", "Person", "same password")
    assert first.password_hash != second.password_hash


def test_find_by_email_ignores_case_and_surrounding_spaces(accounts):
    user = accounts.create_user("ana@example.ca", "Ana", "Tremblay", "pw")
    assert accounts.find_by_email(" ANA@example.CA ") is user
    assert accounts.find_by_email("nobody@example.ca") is None
    assert accounts.find_by_email("a@b.c\r\nBcc: x") is None


def test_create_user_flushes_but_leaves_the_commit_to_the_caller(accounts):
    accounts.create_user("ana@example.ca", "Ana", "Tremblay", "pw")
    db.session.rollback()
    assert db.session.scalar(select(User)) is None


def test_canonical_email_strips_spaces_lowercases_and_refuses_control_characters():
    assert canonical_email("  Zoe@Example.CA ") == "zoe@example.ca"
    with pytest.raises(InvalidEmail):
        canonical_email("\tzoe@example.ca")
