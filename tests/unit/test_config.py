"""Configuration: load order (defaults < file < IDP_* environment < overrides) and the
startup refusals that keep a production deployment from running unsafely."""

from __future__ import annotations

import pytest

from idp import create_app
from idp.config import DEFAULTS, ConfigError, Settings, load
from idp.settings_checks import validate

SAFE_SECRETS = {
    "SECRET_KEY": "s" * 48,
    "SECRETS_HASH_KEY": "h" * 48,
    "KEYS_ENCRYPTION_KEY": "k" * 48,
    "OIDC_PAIRWISE_SALT": "p" * 48,
}
PRODUCTION = {
    "ENV": "production",
    "OIDC_ISSUER": "https://login.example.ca",
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://passerelle@db.internal/passerelle",
    **SAFE_SECRETS,
}


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text('ENV = "development"\nSMTP_HOST = "from-file"\nSMTP_PORT = 2525\nHELP_URL = "/file-help"\n')
    return path


def test_file_overrides_defaults(config_file):
    values = load(environ={"IDP_CONFIG": str(config_file)})
    assert values["SMTP_HOST"] == "from-file"
    assert values["OIDC_ID_TOKEN_TTL"] == DEFAULTS["OIDC_ID_TOKEN_TTL"]


def test_environment_overrides_file_and_keeps_types(config_file):
    values = load(environ={"IDP_CONFIG": str(config_file), "IDP_SMTP_HOST": "from-env", "IDP_SMTP_PORT": "587"})
    assert values["SMTP_HOST"] == "from-env"
    assert values["SMTP_PORT"] == 587
    assert values["HELP_URL"] == "/file-help"


def test_overrides_win_over_environment(config_file):
    environ = {"IDP_CONFIG": str(config_file), "IDP_SMTP_HOST": "from-env"}
    values = load({"SMTP_HOST": "from-overrides"}, environ=environ)
    assert values["SMTP_HOST"] == "from-overrides"


def test_idp_config_itself_is_not_a_setting(config_file):
    assert "CONFIG" not in load(environ={"IDP_CONFIG": str(config_file)})


def test_environment_strings_that_are_not_toml_stay_strings(config_file):
    values = load(environ={"IDP_CONFIG": str(config_file), "IDP_OIDC_ISSUER": "https://login.example.ca"})
    assert values["OIDC_ISSUER"] == "https://login.example.ca"


def test_production_with_safe_values_is_accepted():
    validate({**DEFAULTS, **PRODUCTION})


@pytest.mark.parametrize("name", sorted(SAFE_SECRETS))
def test_production_refuses_a_development_secret(name):
    with pytest.raises(ConfigError, match=name):
        validate({**DEFAULTS, **PRODUCTION, name: "insecure-" + "x" * 48})


@pytest.mark.parametrize("name", sorted(SAFE_SECRETS))
def test_production_refuses_a_short_or_missing_secret(name):
    with pytest.raises(ConfigError, match=name):
        validate({**DEFAULTS, **PRODUCTION, name: "short"})
    with pytest.raises(ConfigError, match=name):
        validate({**DEFAULTS, **PRODUCTION, name: None})


def test_development_accepts_its_insecure_secrets():
    validate({**DEFAULTS, **PRODUCTION, "ENV": "development", "SECRET_KEY": "insecure-dev"})


@pytest.mark.parametrize(
    "issuer",
    ["http://login.example.ca", "http://127.evil.example", "ftp://login.example.ca", "https://login.example.ca/", "https://login.example.ca?x=1",
     "https://login.example.ca#x", "login.example.ca", ""],
)
def test_production_refuses_an_unsafe_or_malformed_issuer(issuer):
    with pytest.raises(ConfigError, match="OIDC_ISSUER"):
        validate({**DEFAULTS, **PRODUCTION, "OIDC_ISSUER": issuer})


@pytest.mark.parametrize("issuer", ["http://127.0.0.1:5000", "http://127.0.0.2:5000", "http://[::1]:5000", "http://localhost:5000", "https://login.example.ca/tenant"])
def test_loopback_http_or_https_issuer_is_accepted(issuer):
    validate({**DEFAULTS, **PRODUCTION, "OIDC_ISSUER": issuer})


def test_production_refuses_a_missing_database_url():
    with pytest.raises(ConfigError, match="SQLALCHEMY_DATABASE_URI"):
        validate({**DEFAULTS, **PRODUCTION, "SQLALCHEMY_DATABASE_URI": None})


def test_sqlite_under_several_instances_is_refused():
    with pytest.raises(ConfigError, match="PostgreSQL"):
        validate({**DEFAULTS, **PRODUCTION, "SQLALCHEMY_DATABASE_URI": "sqlite:///var/p.sqlite3", "INSTANCES": 2})
    validate({**DEFAULTS, **PRODUCTION, "SQLALCHEMY_DATABASE_URI": "sqlite:///var/p.sqlite3", "INSTANCES": 1})
    validate({**DEFAULTS, **PRODUCTION, "INSTANCES": 3, "RATELIMIT_STORAGE_URI": "redis://cache:6379"})


def test_several_instances_need_shared_rate_limit_storage():
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        validate({**DEFAULTS, **PRODUCTION, "INSTANCES": 2})


@pytest.mark.parametrize("fallback", [{"RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True}, {"RATELIMIT_IN_MEMORY_FALLBACK": "10 per minute"}])
def test_several_instances_refuse_an_in_memory_fallback(fallback):
    """While Redis is down the fallback would count per worker again (issue 9)."""
    shared = {**DEFAULTS, **PRODUCTION, "INSTANCES": 2, "RATELIMIT_STORAGE_URI": "redis://cache:6379"}
    with pytest.raises(ConfigError, match="RATELIMIT_IN_MEMORY_FALLBACK"):
        validate({**shared, **fallback})


def test_mail_in_clear_is_refused_beyond_loopback():
    with pytest.raises(ConfigError, match="SMTP_SECURITY"):
        validate({**DEFAULTS, **PRODUCTION, "SMTP_SECURITY": "none", "SMTP_HOST": "mail.example.ca"})
    with pytest.raises(ConfigError, match="SMTP_SECURITY"):
        validate({**DEFAULTS, **PRODUCTION, "SMTP_SECURITY": "ssl"})
    validate({**DEFAULTS, **PRODUCTION, "SMTP_SECURITY": "none", "SMTP_HOST": "127.0.0.1"})
    validate({**DEFAULTS, **PRODUCTION, "SMTP_SECURITY": "tls", "SMTP_HOST": "mail.example.ca"})


def test_unknown_env_and_id_token_alg_are_refused():
    with pytest.raises(ConfigError, match="ENV"):
        validate({**DEFAULTS, **PRODUCTION, "ENV": "staging"})
    with pytest.raises(ConfigError, match="ALG"):
        validate({**DEFAULTS, **PRODUCTION, "OIDC_DEFAULT_ID_TOKEN_ALG": "HS256"})


def test_create_app_refuses_to_start_with_an_unsafe_configuration(monkeypatch):
    monkeypatch.setenv("IDP_ENV", "production")
    with pytest.raises(ConfigError):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})  # the test file's secrets are insecure-


def test_settings_are_strict_and_read_only():
    settings = Settings({"OIDC_ISSUER": "https://login.example.ca"})
    assert settings.OIDC_ISSUER == settings["OIDC_ISSUER"]
    with pytest.raises(AttributeError, match="unknown setting"):
        settings.OIDC_ISUER  # noqa: B018  (a typo must fail loudly, never default)
    with pytest.raises(AttributeError):
        settings.OIDC_ISSUER = "https://evil.example"


def test_production_refuses_insecure_cookies_with_an_https_issuer():
    with pytest.raises(ConfigError, match="SESSION_COOKIE_SECURE"):
        validate({**DEFAULTS, **PRODUCTION, "OIDC_ISSUER": "https://login.example.ca", "SESSION_COOKIE_SECURE": False})


@pytest.mark.parametrize("value", [0, -1, 86401, 1.5, "900", True, None])
def test_recovery_email_cooldown_must_be_seconds_up_to_a_day(value):
    with pytest.raises(ConfigError, match="RECOVERY_EMAIL_COOLDOWN"):
        validate({**DEFAULTS, **PRODUCTION, "RECOVERY_EMAIL_COOLDOWN": value})
    validate({**DEFAULTS, **PRODUCTION, "RECOVERY_EMAIL_COOLDOWN": 1})
    validate({**DEFAULTS, **PRODUCTION, "RECOVERY_EMAIL_COOLDOWN": 86400})
