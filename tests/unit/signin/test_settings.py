"""The sign-in settings are checked at startup (idp.config.validate)."""

from __future__ import annotations

import pytest

from idp.config import ConfigError, load
from idp.settings_checks import SIGNIN_WHOLE_NUMBERS, validate


def development(**overrides):
    return load(overrides, environ={"IDP_CONFIG": "config/development.toml"})


def test_the_defaults_are_accepted():
    validate(development())


@pytest.mark.parametrize("name", SIGNIN_WHOLE_NUMBERS)
@pytest.mark.parametrize("value", [0, -5, "10", 2.5, True, None])
def test_each_count_and_duration_must_be_a_positive_whole_number(name, value):
    with pytest.raises(ConfigError, match=name):
        validate(development(**{name: value}))


@pytest.mark.parametrize("value", ["", "lots", "60 per fortnight"])
def test_the_rate_limit_must_be_readable(value):
    with pytest.raises(ConfigError, match="SIGNIN_RATE_LIMIT"):
        validate(development(SIGNIN_RATE_LIMIT=value))


def test_a_terms_directory_must_hold_a_complete_version(tmp_path):
    with pytest.raises(ConfigError, match="TERMS_DIRECTORY"):
        validate(development(TERMS_DIRECTORY=str(tmp_path / "missing")))
    (tmp_path / "2027-01").mkdir()
    with pytest.raises(ConfigError, match="TERMS_DIRECTORY"):
        validate(development(TERMS_DIRECTORY=str(tmp_path)))
    for name in ("terms.fr.html", "terms.en.html", "privacy.fr.html", "privacy.en.html"):
        (tmp_path / "2027-01" / name).write_text("{% extends 'terms/_document.html' %}")
    validate(development(TERMS_DIRECTORY=str(tmp_path)))
