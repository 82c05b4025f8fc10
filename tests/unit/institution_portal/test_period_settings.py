"""The settings of the portal's mail and reporting periods are validated at start."""

from __future__ import annotations

import pytest

from clients.institution_portal.config import ConfigError, load, validate

GOOD = {"PORTAL_ISSUER": "https://passerelle.example.ca", "PORTAL_CLIENT_ID": "c", "PORTAL_CLIENT_SECRET": "s",
        "PORTAL_BASE_URL": "https://eed.example.ca", "PORTAL_SECRET_KEY": "k" * 40,
        "PORTAL_DATABASE_URL": "postgresql://portal@db/portal"}


def test_the_defaults_are_april_and_november_sixty_days_and_three_reminders():
    settings = validate(load(GOOD, environ={}))
    assert settings.PORTAL_PERIOD_MONTHS == (4, 11) and settings.PORTAL_PERIOD_OPENING_DAY == 1
    assert settings.PORTAL_PERIOD_DAYS == 60 and settings.PORTAL_REMINDER_DAYS == (30, 7, 1)
    assert settings.PORTAL_EXEMPT_PROVINCES == ("QC",)
    assert settings.PORTAL_SMTP_SECURITY == "starttls" and settings.PORTAL_MAIL_FROM is None


def test_the_environment_gives_lists_as_comma_separated_numbers():
    settings = validate(load(GOOD, environ={"PORTAL_PERIOD_MONTHS": "11, 3", "PORTAL_REMINDER_DAYS": "1,14",
                                            "PORTAL_PERIOD_DAYS": "45", "PORTAL_SMTP_PORT": "2525",
                                            "PORTAL_EXEMPT_PROVINCES": "qc,NU"}))
    assert settings.PORTAL_PERIOD_MONTHS == (3, 11) and settings.PORTAL_REMINDER_DAYS == (14, 1)
    assert settings.PORTAL_PERIOD_DAYS == 45 and settings.PORTAL_SMTP_PORT == 2525
    assert settings.PORTAL_EXEMPT_PROVINCES == ("QC", "NU")


def test_a_toml_file_gives_lists(tmp_path):
    path = tmp_path / "portal.toml"
    path.write_text("PORTAL_PERIOD_MONTHS = [5]\nPORTAL_REMINDER_DAYS = []\n")
    settings = validate(load(GOOD, environ={"PORTAL_CONFIG": str(path)}))
    assert settings.PORTAL_PERIOD_MONTHS == (5,) and settings.PORTAL_REMINDER_DAYS == ()


@pytest.mark.parametrize(("name", "value"), [
    ("PORTAL_PERIOD_MONTHS", "13"),
    ("PORTAL_PERIOD_MONTHS", "4,4"),
    ("PORTAL_PERIOD_MONTHS", ""),
    ("PORTAL_PERIOD_MONTHS", "April"),
    ("PORTAL_PERIOD_OPENING_DAY", "29"),  # not every month has it
    ("PORTAL_PERIOD_OPENING_DAY", "0"),
    ("PORTAL_PERIOD_DAYS", "0"),
    ("PORTAL_PERIOD_DAYS", "150"),  # April to November is 7 months, November to April 5: overlaps
    ("PORTAL_REMINDER_DAYS", "60"),  # not inside a 60-day period
    ("PORTAL_REMINDER_DAYS", "7,7"),
    ("PORTAL_REMINDER_DAYS", "-1"),
    ("PORTAL_EXEMPT_PROVINCES", "Quebec"),
    ("PORTAL_SMTP_SECURITY", "ssl"),
    ("PORTAL_SMTP_SECURITY", "none"),  # in clear to a relay off this host, in production
    ("PORTAL_SMTP_PORT", "smtp"),
    ("PORTAL_SMTP_TIMEOUT", "0"),
    ("PORTAL_MAIL_FROM", "not an address"),
])
def test_an_inconsistent_period_or_mail_setting_stops_the_start(name, value):
    with pytest.raises(ConfigError, match=name):
        validate(load({**GOOD, name: value, "PORTAL_SMTP_HOST": "relay.example.ca"}, environ={}))


def test_clear_text_smtp_is_allowed_to_a_loopback_relay():
    settings = validate(load({**GOOD, "PORTAL_SMTP_SECURITY": "none", "PORTAL_SMTP_HOST": "127.0.0.1"}, environ={}))
    assert settings.PORTAL_SMTP_SECURITY == "none"
