"""The partners file is checked in full at startup (issue 5, Partners)."""

from __future__ import annotations

import pytest

from idp.config import ConfigError
from idp.federation.partners import load_partners
from idp.signin.assurance import ACR_MFA, ACR_PASSWORD, ACR_PASSWORD_EMAIL

GOOD = """
[partners.banque]
names = { fr = "Banque Imaginaire", en = "Imaginary Bank" }
issuer = "https://auth.banque.example"
client_id = "passerelle"
client_secret = "s3cret"
default_acr = "urn:passerelle:acr:pwd"
[partners.banque.acr_map]
"urn:banque:mfa" = "urn:passerelle:acr:mfa"
[partners.banque.amr_map]
otp = "urn:passerelle:acr:mfa"
sms = "urn:passerelle:acr:pwd-email"
"""


def write(tmp_path, text):
    path = tmp_path / "partners.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_empty_setting_means_no_partners():
    assert load_partners("") == {}


def test_a_partner_is_read_with_its_defaults(tmp_path):
    partner = load_partners(write(tmp_path, GOOD))["banque"]
    assert partner.name("fr") == "Banque Imaginaire" and partner.name("en") == "Imaginary Bank"
    assert partner.scopes == ("openid",) and partner.enabled
    assert partner.discovery_url == "https://auth.banque.example/.well-known/openid-configuration"
    assert "s3cret" not in repr(partner)


def test_the_example_file_is_valid():
    from idp.config import CONFIG_DIR

    assert "banque-imaginaire" in load_partners(CONFIG_DIR / "partners.example.toml")


@pytest.mark.parametrize(
    ("acr", "amr", "level"),
    [
        (None, None, ACR_PASSWORD),
        ("urn:banque:mfa", ["pwd"], ACR_MFA),
        ("unknown", ["otp"], ACR_MFA),
        (None, ["sms"], ACR_PASSWORD_EMAIL),
        ("unknown", "otp", ACR_PASSWORD),  # amr must be a list (OIDC Core §2)
        (["urn:banque:mfa"], None, ACR_PASSWORD),  # acr must be a string
    ],
)
def test_level_is_the_highest_mapped_value_else_the_default(tmp_path, acr, amr, level):
    assert load_partners(write(tmp_path, GOOD))["banque"].level_for(acr, amr) == level


def test_secret_from_the_environment(tmp_path):
    text = GOOD.replace('client_secret = "s3cret"', 'client_secret_env = "BANQUE_SECRET"')
    assert load_partners(write(tmp_path, text), environ={"BANQUE_SECRET": "from-env"})["banque"].client_secret == "from-env"
    with pytest.raises(ConfigError, match="BANQUE_SECRET"):
        load_partners(write(tmp_path, text), environ={})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("https://auth.banque.example", "http://auth.banque.example"), "https unless"),
        (("https://auth.banque.example", "https://auth.banque.example/"), "trailing slash"),
        (('client_id = "passerelle"', ""), "client_id is missing"),
        (('client_secret = "s3cret"', ""), "client_secret"),
        (('en = "Imaginary Bank"', 'de = "Bank"'), "names must"),
        (('"urn:passerelle:acr:mfa"\n[partners.banque.amr_map]', '"urn:other"\n[partners.banque.amr_map]'), "acr_map"),
        (("[partners.banque]", "[partners.Banque]"), "lowercase"),
        (("[partners.banque]", "[partners.callback]"), "lowercase"),
        (('default_acr = "urn:passerelle:acr:pwd"', 'default_acr = "high"'), "default_acr"),
        (('client_id = "passerelle"', 'client_id = "passerelle"\nscopes = ["profile"]'), "openid"),
        (('client_id = "passerelle"', 'client_id = "passerelle"\ncolour = "blue"'), "unknown keys"),
        (('client_id = "passerelle"', 'client_id = "passerelle"\nenabled = "yes"'), "enabled"),
    ],
)
def test_a_mistake_is_a_config_error_naming_it(tmp_path, change, message):
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(ConfigError, match=message):
        load_partners(write(tmp_path, text))


def test_two_partners_with_one_issuer_are_refused(tmp_path):
    text = GOOD + GOOD.replace("partners.banque", "partners.caisse")
    with pytest.raises(ConfigError, match="issuer"):
        load_partners(write(tmp_path, text))


def test_a_missing_or_broken_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_partners(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_partners(write(tmp_path, "[partners"))


def test_startup_refuses_a_bad_partners_file(tmp_path):
    from idp import create_app

    with pytest.raises(ConfigError, match="PARTNERS_FILE"):
        create_app({"PARTNERS_FILE": str(tmp_path / "missing.toml"), "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_private_key_file_replaces_the_secret(tmp_path):
    import json

    from joserfc.jwk import ECKey

    key_path = tmp_path / "key.jwk"
    key_path.write_text(json.dumps(ECKey.generate_key("P-256", private=True).as_dict(private=True)))
    text = GOOD.replace('client_secret = "s3cret"', f'private_key_file = "{key_path}"')
    partner = load_partners(write(tmp_path, text))["banque"]
    assert partner.auth_method == "private_key_jwt" and partner.client_secret is None
    with pytest.raises(ConfigError, match="only one"):
        load_partners(write(tmp_path, GOOD.replace('client_secret = "s3cret"', f'client_secret = "x"\nprivate_key_file = "{key_path}"')))
    key_path.write_text(json.dumps(ECKey.generate_key("P-256", private=True).as_dict(private=False)))
    with pytest.raises(ConfigError, match="private key"):
        load_partners(write(tmp_path, text))
