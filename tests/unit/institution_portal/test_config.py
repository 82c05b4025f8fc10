"""The portal refuses to start on missing or inconsistent settings (config.validate)."""

from __future__ import annotations

import pytest

from clients.institution_portal.config import ConfigError, load, validate

GOOD = {
    "PORTAL_ISSUER": "https://passerelle.example.ca/",
    "PORTAL_CLIENT_ID": "institution-portal",
    "PORTAL_CLIENT_SECRET": "a secret",
    "PORTAL_BASE_URL": "https://eed.example.ca",
    "PORTAL_SECRET_KEY": "k" * 40,
    "PORTAL_DATABASE_URL": "postgresql://portal@db/portal",
}


def test_good_settings_are_accepted_and_secure_by_default():
    settings = validate(load(GOOD, environ={}))
    assert settings.PORTAL_ISSUER == "https://passerelle.example.ca"
    assert settings.PORTAL_ENV == "production" and not settings.is_development
    assert settings.redirect_uri == "https://eed.example.ca/callback"
    assert settings.post_logout_redirect_uri == "https://eed.example.ca/signed-out"
    assert settings.PORTAL_REQUIRED_ACR == "urn:passerelle:acr:mfa"


def test_the_environment_overrides_the_defaults_and_a_toml_file(tmp_path):
    path = tmp_path / "portal.toml"
    path.write_text('PORTAL_TERMS_VERSION = "from-file"\nPORTAL_SESSION_MAX_AGE = 60\n')
    values = load(GOOD, environ={"PORTAL_CONFIG": str(path), "PORTAL_SESSION_MAX_AGE": "120"})
    settings = validate(values)
    assert settings.PORTAL_TERMS_VERSION == "from-file" and settings.PORTAL_SESSION_MAX_AGE == 120


@pytest.mark.parametrize("missing", ["PORTAL_ISSUER", "PORTAL_CLIENT_ID", "PORTAL_CLIENT_SECRET", "PORTAL_BASE_URL",
                                     "PORTAL_SECRET_KEY", "PORTAL_DATABASE_URL"])
def test_a_missing_setting_stops_the_start(missing):
    with pytest.raises(ConfigError, match=missing):
        validate(load({**GOOD, missing: None}, environ={}))


@pytest.mark.parametrize(("name", "value"), [
    ("PORTAL_SECRET_KEY", "short"),
    ("PORTAL_ISSUER", "http://passerelle.example.ca"),
    ("PORTAL_BASE_URL", "ftp://eed.example.ca"),
    ("PORTAL_ENV", "staging"),
    ("PORTAL_SESSION_COOKIE_NAME", "passerelle_session"),
    ("PORTAL_SESSION_COOKIE_NAME", "demo_rp_session"),
    ("PORTAL_SESSION_MAX_AGE", "a day"),
    ("PORTAL_REQUIRED_ACR", " "),
])
def test_an_inconsistent_setting_stops_the_start(name, value):
    with pytest.raises(ConfigError):
        validate(load({**GOOD, name: value}, environ={}))


def test_http_is_allowed_on_loopback_only():
    settings = validate(load({**GOOD, "PORTAL_ISSUER": "http://127.0.0.1:5000", "PORTAL_BASE_URL": "http://localhost:5003"},
                             environ={}))
    assert settings.PORTAL_ISSUER == "http://127.0.0.1:5000"
