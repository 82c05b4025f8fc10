"""The optional Have I Been Pwned range check (k-anonymity), against a server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import logging

import pytest

from idp.config import DEFAULTS, ConfigError
from idp.settings_checks import validate
from idp.security.pwned_passwords import PwnedPasswords
from tests.pwned_support import pwned_server
from tests.unit.test_config import PRODUCTION

BREACHED = "Tulipe-Orange-42-Ciel"
CLEAN = "Lune Océan Trèfle 42"


@pytest.fixture
def server():
    with pwned_server() as running:
        running.add_breached(BREACHED)
        yield running


def test_a_breached_password_is_found(server):
    assert PwnedPasswords(server.url, timeout=2).is_breached(BREACHED)


def test_a_clean_password_is_not_and_padding_lines_never_match(server):
    checker = PwnedPasswords(server.url, timeout=2)
    assert not checker.is_breached(CLEAN)
    # The padding lines have a count of 0: a password whose hash is one of them is not breached.
    assert not checker._suffixes("00000") & {f"{index:035X}" for index in range(5)}


def test_only_the_first_five_hex_digits_of_the_sha1_leave_with_padding_asked(server):
    PwnedPasswords(server.url, timeout=2).is_breached(CLEAN)
    digest = hashlib.sha1(CLEAN.encode("utf-8")).hexdigest().upper()
    [(path, headers)] = server.requests
    assert path == "/range/" + digest[:5]
    assert headers["add-padding"] == "true"
    assert digest[5:] not in path and "Tr" not in path


def test_each_range_is_fetched_once_per_checker(server):
    checker = PwnedPasswords(server.url, timeout=2)
    assert checker.is_breached(BREACHED) and checker.is_breached(BREACHED)
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", ["hang", "error"])
def test_a_slow_or_failing_service_fails_open_with_a_warning_that_holds_no_secret(server, caplog, mode):
    server.mode = mode
    with caplog.at_level(logging.WARNING, logger="idp.security.pwned_passwords"):
        assert PwnedPasswords(server.url, timeout=0.2).is_breached(BREACHED) is False
    [record] = caplog.records
    assert record.levelno == logging.WARNING and "accepted without it" in record.getMessage()
    digest = hashlib.sha1(BREACHED.encode("utf-8")).hexdigest().upper()
    for secret in (BREACHED, digest, digest[5:]):
        assert secret not in record.getMessage()


def test_an_unreachable_service_fails_open(caplog):
    with caplog.at_level(logging.WARNING, logger="idp.security.pwned_passwords"):
        assert PwnedPasswords("http://127.0.0.1:9/range/", timeout=0.5).is_breached(BREACHED) is False
    assert len(caplog.records) == 1


# The settings.


def test_the_check_is_off_by_default_and_its_settings_are_checked_at_startup():
    assert DEFAULTS["PASSWORD_PWNED_CHECK"] is False
    loopback = {"PASSWORD_PWNED_CHECK": True, "PASSWORD_PWNED_URL": "http://127.0.0.1:8/range/"}
    validate({**DEFAULTS, **PRODUCTION, **loopback})
    for name, value in [("PASSWORD_PWNED_URL", "http://api.pwnedpasswords.com/range/"),
                        ("PASSWORD_PWNED_URL", "api.pwnedpasswords.com"), ("PASSWORD_PWNED_TIMEOUT", 0),
                        ("PASSWORD_PWNED_TIMEOUT", 31), ("PASSWORD_PWNED_TIMEOUT", "2"),
                        ("PASSWORD_PWNED_CHECK", "yes"), ("PASSWORD_MIN_STRENGTH", 5)]:
        with pytest.raises(ConfigError, match=name):
            validate({**DEFAULTS, **PRODUCTION, name: value})
