"""argon2id hashing of NFKC-normalised passwords (PW-01, PW-02, PW-07, VAL-03)."""

from __future__ import annotations

import pytest

from idp.security.passwords import MAX_PASSWORD_LENGTH, PasswordHasher, normalize_password


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=1, memory_cost=1024)


def test_hash_is_argon2id_salted_and_verifies(hasher):
    first, second = hasher.hash("Tulipe-Orange-42"), hasher.hash("Tulipe-Orange-42")
    assert first.startswith("$argon2id$") and first != second
    assert hasher.verify(first, "Tulipe-Orange-42")
    assert not hasher.verify(first, "tulipe-orange-42")


def test_a_password_typed_with_another_unicode_composition_verifies(hasher):
    precomposed = "Mot-de-passe-d\u00e9j\u00e0-42"  # é and à as single code points
    decomposed = "Mot-de-passe-de\u0301ja\u0300-42"  # e + U+0301, a + U+0300
    assert precomposed != decomposed and normalize_password(precomposed) == normalize_password(decomposed)
    assert hasher.verify(hasher.hash(precomposed), decomposed)
    assert hasher.verify(hasher.hash(decomposed), precomposed)
    assert hasher.verify(hasher.hash("ＡＢＣ-１２３-passw"), "ABC-123-passw")  # fullwidth forms


def test_no_truncation_long_passwords_verify_only_whole(hasher):
    password = ("Ünïcødé 😀 mixed ASCII and spaces " * 4)[:128]
    stored = hasher.hash(password)
    assert hasher.verify(stored, password)
    assert not hasher.verify(stored, password[:-1])
    # Sharing the first 72 bytes (bcrypt's limit) is not enough.
    assert not hasher.verify(hasher.hash("x" * 72 + "first"), "x" * 72 + "second")


def test_hashes_made_before_this_change_still_verify(hasher):
    from argon2 import PasswordHasher as Argon2

    legacy = Argon2(time_cost=1, memory_cost=1024).hash(normalize_password("Café-Crème-2024"))
    assert hasher.verify(legacy, "Café-Crème-2024")
    assert hasher.verify(legacy, "Cafe\u0301-Cre\u0300me-2024")


def test_a_lone_surrogate_hashes_and_verifies_instead_of_raising(hasher):
    stored = hasher.hash("abc\ud800def")
    assert hasher.verify(stored, "abc\ud800def")
    assert not hasher.verify(stored, "abcdef")


def test_over_the_cap_is_refused_without_hashing(hasher):
    stored = hasher.hash("x" * MAX_PASSWORD_LENGTH)
    assert hasher.verify(stored, "x" * MAX_PASSWORD_LENGTH)
    assert not hasher.verify(stored, "x" * (MAX_PASSWORD_LENGTH + 1))


def test_verify_without_a_hash_is_false_and_still_does_the_work(hasher):
    assert hasher.verify(None, "anything") is False
    assert hasher.verify("not-a-hash", "anything") is False
