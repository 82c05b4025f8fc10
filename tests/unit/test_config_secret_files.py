"""Secrets from files (issue 15): container platforms mount each secret as a file, so every
secret setting may be given as IDP_<NAME>_FILE instead of its value in the environment."""

from __future__ import annotations

import pytest

from idp.config import FILE_SETTINGS, ConfigError, load


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('ENV = "development"\nSECRET_KEY = "from-the-file"\n')
    return path


def secret_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    return str(path)


def test_a_secret_is_read_from_its_file_without_the_trailing_newline(tmp_path, config_file):
    values = load(environ={"IDP_CONFIG": str(config_file),
                           "IDP_SECRET_KEY_FILE": secret_file(tmp_path, "key", "s3cr3t-from-a-mounted-file\n")})
    assert values["SECRET_KEY"] == "s3cr3t-from-a-mounted-file"
    assert "SECRET_KEY_FILE" not in values


@pytest.mark.parametrize("name", FILE_SETTINGS)
def test_every_secret_setting_can_come_from_a_file(tmp_path, config_file, name):
    values = load(environ={"IDP_CONFIG": str(config_file), f"IDP_{name}_FILE": secret_file(tmp_path, name, "value\r\n")})
    assert values[name] == "value"


def test_a_value_and_a_file_for_the_same_secret_are_refused(tmp_path, config_file):
    with pytest.raises(ConfigError, match="SMTP_PASSWORD"):
        load(environ={"IDP_CONFIG": str(config_file), "IDP_SMTP_PASSWORD": "inline",
                      "IDP_SMTP_PASSWORD_FILE": secret_file(tmp_path, "smtp", "from-file")})


def test_a_missing_or_empty_secret_file_is_refused_naming_the_setting_not_the_content(tmp_path, config_file):
    with pytest.raises(ConfigError, match="KEYS_ENCRYPTION_KEY_FILE"):
        load(environ={"IDP_CONFIG": str(config_file), "IDP_KEYS_ENCRYPTION_KEY_FILE": str(tmp_path / "absent")})
    with pytest.raises(ConfigError, match="empty"):
        load(environ={"IDP_CONFIG": str(config_file), "IDP_KEYS_ENCRYPTION_KEY_FILE": secret_file(tmp_path, "e", "\n")})


def test_the_partners_file_setting_is_a_path_not_a_secret(tmp_path, config_file):
    values = load(environ={"IDP_CONFIG": str(config_file), "IDP_PARTNERS_FILE": "config/partners.demo.toml"})
    assert values["PARTNERS_FILE"] == "config/partners.demo.toml"


def test_a_secret_in_the_environment_still_works_without_a_file(config_file):
    values = load(environ={"IDP_CONFIG": str(config_file), "IDP_SECRET_KEY": "from-the-environment"})
    assert values["SECRET_KEY"] == "from-the-environment"
