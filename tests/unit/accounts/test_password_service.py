"""AccountService.check_new_password and set_password: the policy on a real database."""

from __future__ import annotations

import pytest

from idp.accounts.errors import WeakPassword
from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.security.password_policy import PasswordProblem

GOOD = "Tulipe-Orange-42-Ciel"


@pytest.fixture
def accounts(app):
    with app.app_context():
        ctx = app_context()
        yield AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords)


def check(accounts, password, **person):
    person = {"email": "ana.tremblay@example.ca", "given_name": "Ana", "family_name": "Tremblay", **person}
    accounts.check_new_password(password, **person)


def test_a_good_password_passes(accounts):
    check(accounts, GOOD)


def test_a_weak_password_raises_with_every_problem(accounts):
    with pytest.raises(WeakPassword) as raised:
        check(accounts, "tremblay")
    assert raised.value.problems == [
        PasswordProblem.TOO_SHORT, PasswordProblem.NO_SPECIAL, PasswordProblem.NO_DIGIT,
        PasswordProblem.NO_UPPER, PasswordProblem.COMMON, PasswordProblem.PERSONAL]


@pytest.mark.parametrize(
    ("password", "person"),
    [("Ana.Tremblay-2024-Soleil", {}), ("Soleil-2024-ANA.TREMBLAY", {}), ("Soleil-Tremblay-2024", {}),
     ("Soleil-Zoé-Dupuis-24", {"given_name": "Zoé", "family_name": "Dupuis", "email": "z@example.ca"})],
)
def test_the_persons_address_and_names_are_refused(accounts, password, person):
    with pytest.raises(WeakPassword) as raised:
        check(accounts, password, **person)
    assert raised.value.problems == [PasswordProblem.PERSONAL]


def test_no_person_known_yet_checks_the_rest(accounts):
    accounts.check_new_password(GOOD, email=None, given_name=None, family_name=None)
    with pytest.raises(WeakPassword):
        accounts.check_new_password("", email=None, given_name=None, family_name=None)


@pytest.mark.settings(PASSWORD_MIN_LENGTH=20, PASSWORD_REQUIRE_SPECIAL=False)
def test_the_settings_shape_the_policy(accounts):
    with pytest.raises(WeakPassword) as raised:
        check(accounts, "TulipeOrange42Ciel")  # 18 characters, no special: only the length counts
    assert raised.value.problems == [PasswordProblem.TOO_SHORT]
    check(accounts, "TulipeOrange42CielBleu")


def test_a_huge_password_is_too_long_without_hashing(accounts):
    with pytest.raises(WeakPassword) as raised:
        check(accounts, "A1-a" * 100_000)
    assert raised.value.problems == [PasswordProblem.TOO_LONG]


def test_set_password_checks_hashes_and_stamps_the_change(accounts, clock):
    user = accounts.create_user("ana.tremblay@example.ca", "Ana", "Tremblay", "an old password")
    clock.advance(seconds=60)
    accounts.set_password(user, GOOD)
    assert user.updated_at == clock()
    assert accounts.passwords.verify(user.password_hash, GOOD)
    assert not accounts.passwords.verify(user.password_hash, "an old password")


def test_set_password_refuses_a_weak_one_and_keeps_the_old(accounts, clock):
    user = accounts.create_user("ana.tremblay@example.ca", "Ana", "Tremblay", "an old password")
    created = user.updated_at
    with pytest.raises(WeakPassword) as raised:
        accounts.set_password(user, "Tremblay-Soleil-2024")
    assert raised.value.problems == [PasswordProblem.PERSONAL]
    assert accounts.passwords.verify(user.password_hash, "an old password")
    assert user.updated_at == created


def test_create_user_does_not_apply_the_policy(accounts):
    """Operators, the demo and tests create accounts with their own passwords."""
    user = accounts.create_user("b@example.ca", "B", "C", "pw")
    assert accounts.passwords.verify(user.password_hash, "pw")
