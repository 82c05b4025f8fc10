"""Issue 9 item 3: breached and context passwords (NIST SP 800-63B §3.1.1.2).

What the composition rules let through: list entries with digits and symbols around them,
guessable patterns (zxcvbn), and the forbidden words hidden behind invisible characters or
look-alike letters from other scripts.
"""

from __future__ import annotations

import secrets
import time

import pytest

from idp.config import DEFAULTS
from idp.security.common_passwords import is_common_password
from idp.security.password_policy import PasswordPolicy, PasswordProblem, estimate_strength, personal_values
from idp.security.unicode_forms import comparable_form, fold_confusables, strip_invisible

P = PasswordProblem
ANA = personal_values("ana.tremblay@example.ca", "Ana", "Tremblay")


@pytest.fixture(scope="module")
def policy() -> PasswordPolicy:
    return PasswordPolicy()


# The examples.


@pytest.mark.parametrize("password", ["Password123456!", "P@ssw0rd123456", "Qwerty123456789!"])
def test_a_common_password_dressed_up_to_pass_the_composition_rules_is_refused(policy, password):
    assert policy.problems(password, personal=ANA) in ([P.COMMON], [P.GUESSABLE])


@pytest.mark.parametrize("password", ["Pa\u200bsserelle2026!!", "P\u0430sserelle2026!!", "Pass\u00aderelle2026!!",
                                      "\u202ePasserelle2026!!", "Passerell\u0435\ufe0f2026!!"])
def test_the_service_name_hidden_by_invisible_or_look_alike_characters_is_refused(policy, password):
    assert P.PERSONAL in policy.problems(password, personal=ANA)


@pytest.mark.parametrize(
    "password", ["Tr\u0435mblay-Soleil-2024", "Trem\u200cblay-Soleil-2024", "Soleil-\u0410na-Lune-24!"]
)
def test_the_persons_name_hidden_by_invisible_or_look_alike_characters_is_refused(policy, password):
    assert policy.problems(password, personal=ANA) == [P.PERSONAL]


# Normalisation.


def test_invisible_characters_are_stripped():
    hidden = "Pa\u200bss\u200c\u200d\u2060\u00ad\ufeff\u202e\u2066w\u034fo\ufe0frd\U000e0100"
    assert strip_invisible(hidden) == "Password"
    assert strip_invisible("Tulipe Orange 42") == "Tulipe Orange 42"  # a space is not invisible


def test_look_alikes_from_other_scripts_fold_to_latin_and_latin_is_left_alone():
    assert fold_confusables("\u0420\u0430\u0455\u0455w\u043erd") == "Password"  # Cyrillic Р а ѕ ѕ о
    assert fold_confusables("\u0391\u03b2\u039f\u03bf") == "A\u03b2Oo"  # Greek Α, Ο, ο; β has no look-alike
    assert fold_confusables("\u0406\u0456") == "Ii"  # Ukrainian І і: I and i, case kept
    assert fold_confusables("Éléphant-Straße-ÆØ") == "Éléphant-Straße-ÆØ"
    assert fold_confusables("Password-0123!") == "Password-0123!"  # ASCII never changes


def test_the_comparable_form_is_nfkc_without_invisible_characters_with_latin_look_alikes():
    assert comparable_form("\uff30\u0430\u200bss") == "Pass"  # fullwidth P, Cyrillic а, a zero-width space


def test_length_and_character_classes_ignore_invisible_characters(policy):
    # 14 code points typed, 13 visible: too short; a zero-width space is no special character.
    assert policy.problems("Tulipe-Oran\u200b4") == [P.TOO_SHORT]
    assert policy.problems("Tulipe\u200bOrange42Ciel") == [P.NO_SPECIAL]


def test_a_genuinely_cyrillic_or_greek_password_is_accepted(policy):
    assert policy.problems("Медведь-Берёза-1987-Волга") == []
    assert policy.problems("Θάλασσα-Ήλιος-2024-Βουνό") == []


def test_listed_passwords_in_look_alike_letters_are_found():
    assert is_common_password("p\u0430ssword")
    assert is_common_password("\u200bpassword")
    assert is_common_password("пароль")  # a listed Cyrillic entry stays listed


def test_a_listed_word_with_digits_and_symbols_around_it_is_common():
    assert is_common_password("Password123456!")
    assert is_common_password("!!Sunshine2024")
    assert not is_common_password("Tulipe-Orange-42-Ciel")
    assert not is_common_password("ab123456789!!!")  # a two-letter core says nothing


# Guessability (zxcvbn).


@pytest.mark.parametrize(
    "password",
    ["Aaaaaaaaaaaaaa1!", "1qaz2wsx3edc4RFV!", "Qwerty!Qwerty!1"],  # a repeat, keyboard walks
)
def test_patterns_that_meet_every_rule_are_refused_as_guessable(policy, password):
    assert policy.problems(password) == [P.GUESSABLE]


@pytest.mark.parametrize(
    "password",
    ["Tulipe-Orange-42-Ciel", "Correct-Horse-Battery-9", "Lune Océan Trèfle 42", "mB7#qT2$wL9@xR4!"],
)
def test_passwords_that_are_hard_to_guess_are_accepted(policy, password):
    assert policy.problems(password, personal=ANA) == []


def test_guessability_is_judged_only_when_every_other_rule_holds(policy, monkeypatch):
    import idp.security.password_policy as module

    def fail(*args, **kwargs):
        raise AssertionError("estimated")

    monkeypatch.setattr(module, "estimate_strength", fail)
    assert policy.problems("password") == [P.TOO_SHORT, P.NO_SPECIAL, P.NO_DIGIT, P.NO_UPPER, P.COMMON]
    assert policy.problems("Tremblay-Soleil-2024", personal=ANA) == [P.PERSONAL]


def test_the_persons_context_feeds_the_estimate():
    # Pieces of the address that are not whole values (the PERSONAL rule) still make it guessable.
    hints = personal_values("jb.ouellette-lachance@example.ca", "Jean", "Ouellette")
    assert estimate_strength("Lachance-1985!!", hints) < estimate_strength("Lachance-1985!!", []) == 4


def test_the_minimum_strength_is_a_setting():
    assert PasswordPolicy.from_settings(DEFAULTS).min_strength == 3
    assert PasswordPolicy.from_settings({**DEFAULTS, "PASSWORD_MIN_STRENGTH": 0}).problems("Qwerty!Qwerty!1") == []
    assert PasswordPolicy(min_strength=4).problems("Baseball-Football1") == [P.GUESSABLE]  # scores 3
    for wrong in (-1, 5, "3", True):
        with pytest.raises(ValueError):
            PasswordPolicy.from_settings({**DEFAULTS, "PASSWORD_MIN_STRENGTH": wrong})


def test_the_checklist_says_guessability_is_checked_on_submit():
    assert [(rule.key, rule.check) for rule in PasswordPolicy().rules()][-1] == ("guessable", "server")
    assert "guessable" not in [rule.key for rule in PasswordPolicy(min_strength=0).rules()]


def test_a_long_password_is_estimated_in_windows_and_stays_cheap(policy):
    """zxcvbn's cost grows faster than the length (a random 128-character string took a
    second in one call); windows of 64 characters keep the worst case near 0.1 s."""
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#$%&*+-=?@"
    random_128 = "".join(secrets.choice(alphabet) for _ in range(128))
    started = time.perf_counter()
    estimate_strength(random_128, ANA)
    estimate_strength("a" * 64 + random_128[:64], ANA)  # a weak first window, then a strong one
    assert time.perf_counter() - started < 1.5  # generous: two shared cores
    assert estimate_strength("a" * 64 + random_128[:64], ANA) == 4
    assert policy.problems(random_128) == []


@pytest.mark.parametrize("text", ["Zo\u200bé", "\u202eAdmin", "a\u2066b", "a\u2028b", "a\nb", "a\x00b", "a\ufe0fb", "\u00adx"])
def test_hidden_characters_are_found(text):
    from idp.security.unicode_forms import has_hidden_characters

    assert has_hidden_characters(text)


@pytest.mark.parametrize("text", ["Zoé Citoyenne", "École Imaginaire", "Марія", "O'Neil-Tremblay", "عربي"])
def test_visible_names_in_any_script_have_no_hidden_characters(text):
    from idp.security.unicode_forms import has_hidden_characters

    assert not has_hidden_characters(text)
