"""config/production.example.toml (issue 15) names every setting, sets only real ones, keeps
secrets out, and is accepted by production's startup checks once the secrets are given."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from idp.config import DEFAULTS, FILE_SETTINGS, load
from idp.settings_checks import validate

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "production.example.toml"
SECRETS = {f"IDP_{name}": "x" * 48 for name in ("SECRET_KEY", "SECRETS_HASH_KEY", "KEYS_ENCRYPTION_KEY",
                                                "OIDC_PAIRWISE_SALT")}


def test_every_setting_is_in_the_example_with_its_default_or_a_value():
    text = EXAMPLE.read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)(?: =| \(|:)", text, flags=re.MULTILINE))
    assert sorted(set(DEFAULTS) - named) == [], "add them to config/production.example.toml"


def test_the_example_sets_only_known_settings_and_no_secret():
    values = tomllib.loads(EXAMPLE.read_text())
    assert set(values) <= set(DEFAULTS)
    assert not set(values) & set(FILE_SETTINGS)


def test_the_example_passes_production_checks_once_the_secrets_are_given():
    environ = {"IDP_CONFIG": str(EXAMPLE), "IDP_SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://passerelle@db/passerelle",
               **SECRETS}
    config = load(environ=environ)
    assert config["ENV"] == "production"
    validate(config)
