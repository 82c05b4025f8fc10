"""A school's credentials from PKCS#12 or PEM, the signer settings, and the demo authority: a
wrong or missing password is a typed error that never carries the password."""

from __future__ import annotations

import traceback
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from clients.document_portal.signing.credentials import load_pem, load_pkcs12
from clients.document_portal.signing.demo_pki import make_demo_pki
from clients.document_portal.signing.errors import (
    CredentialsIncomplete,
    CredentialsUnreadable,
    NoSignerForOrganization,
    PasswordMissing,
    SignerConfigError,
    SignerNotTrusted,
    WrongPassword,
)
from clients.document_portal.signing.settings import (
    SIGNING_DEFAULTS,
    load_signer,
    load_trust_roots,
    parse_signing_settings,
)
from tests.unit.document_portal.signing.conftest import SIGNED_AT

WRONG = "Tr0mpe-l'œil-secret-42"
ORG = "O123456789012"


def assert_password_absent(error: BaseException, *passwords: str) -> None:
    text = "".join(traceback.format_exception(error)) + repr(error.args)
    for password in passwords:
        assert password not in text


@pytest.fixture(scope="module")
def pem_files(demo_pki, tmp_path_factory):
    """The demo school's key (encrypted with its password) and certificate as PEM files."""
    key, cert, others = pkcs12.load_key_and_certificates(demo_pki.school_pkcs12.read_bytes(),
                                                         demo_pki.password().encode())
    folder = tmp_path_factory.mktemp("pem")
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(demo_pki.password().encode())))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "chain.pem").write_bytes(b"".join(other.public_bytes(serialization.Encoding.PEM) for other in others))
    return folder


def test_the_demo_authority_is_made_once(demo_pki):
    before = {path.name: path.read_bytes() for path in demo_pki.directory.iterdir()}
    again = make_demo_pki(demo_pki.directory)
    assert {path.name: path.read_bytes() for path in again.directory.iterdir()} == before
    assert again.password() == demo_pki.password() and len(demo_pki.password()) >= 32
    assert demo_pki.school_pkcs12.stat().st_mode & 0o077 == 0 and demo_pki.password_file.stat().st_mode & 0o077 == 0


def test_a_pkcs12_opens_with_its_password(demo_pki):
    credentials = load_pkcs12(demo_pki.school_pkcs12.read_bytes(), demo_pki.password())
    assert credentials.subject_name == "École Imaginaire" and credentials.organization == "École Imaginaire"
    assert [cert.subject.native["common_name"] for cert in credentials.chain] == [
        "Autorité de démonstration du portail de documents"]
    assert demo_pki.password() not in repr(credentials)


def test_a_pkcs12_with_a_wrong_password_is_a_typed_error_without_the_password(demo_pki):
    with pytest.raises(WrongPassword) as caught:
        load_pkcs12(demo_pki.school_pkcs12.read_bytes(), WRONG)
    assert_password_absent(caught.value, WRONG, demo_pki.password())
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_file_that_is_not_pkcs12_is_unreadable():
    with pytest.raises(CredentialsUnreadable):
        load_pkcs12(b"-----BEGIN NOTHING-----", WRONG)


def test_a_pem_key_and_certificate_load_with_the_password(pem_files, demo_pki):
    credentials = load_pem((pem_files / "key.pem").read_bytes(), (pem_files / "cert.pem").read_bytes(),
                           demo_pki.password(), (pem_files / "chain.pem").read_bytes())
    assert credentials.subject_name == "École Imaginaire" and len(credentials.chain) == 1


def test_a_pem_key_with_a_wrong_password_is_a_typed_error_without_the_password(pem_files, demo_pki):
    with pytest.raises(WrongPassword) as caught:
        load_pem((pem_files / "key.pem").read_bytes(), (pem_files / "cert.pem").read_bytes(), WRONG)
    assert_password_absent(caught.value, WRONG, demo_pki.password())


def test_an_encrypted_pem_key_without_a_password_says_so(pem_files):
    with pytest.raises(PasswordMissing):
        load_pem((pem_files / "key.pem").read_bytes(), (pem_files / "cert.pem").read_bytes(), None)


def test_a_key_that_does_not_match_the_certificate_is_refused(pem_files, demo_pki, foreign_pki):
    foreign = pkcs12.load_key_and_certificates(foreign_pki.school_pkcs12.read_bytes(), foreign_pki.password().encode())
    with pytest.raises(CredentialsIncomplete):
        load_pem((pem_files / "key.pem").read_bytes(),
                 foreign[1].public_bytes(serialization.Encoding.PEM), demo_pki.password())


def pkcs12_settings(demo_pki, **extra):
    entry = {"pkcs12": str(demo_pki.school_pkcs12), "password_env": "SCHOOL_P12_PASSWORD", **extra}
    return parse_signing_settings({"DOCUMENT_PORTAL_SIGNERS": {ORG: entry},
                                   "DOCUMENT_PORTAL_TRUST_ROOTS": [str(demo_pki.ca_certificate)]})


def test_a_signer_loads_with_the_password_from_the_environment(demo_pki):
    settings = pkcs12_settings(demo_pki, location="Montréal (Québec)")
    config = settings.signer_for(ORG)
    assert config.location == "Montréal (Québec)" and settings.tsa_url is None
    credentials = load_signer(config, {"SCHOOL_P12_PASSWORD": demo_pki.password()})
    assert credentials.subject_name == "École Imaginaire"
    assert [root.subject.native["common_name"] for root in load_trust_roots(settings.trust_roots)] == [
        "Autorité de démonstration du portail de documents"]


def test_a_signer_from_pem_files_with_a_password_file(pem_files, demo_pki, tmp_path):
    (tmp_path / "password").write_text(demo_pki.password() + "\n")
    settings = parse_signing_settings({"DOCUMENT_PORTAL_SIGNERS": {ORG: {
        "key": str(pem_files / "key.pem"), "certificate": str(pem_files / "cert.pem"),
        "chain": [str(pem_files / "chain.pem")], "password_file": str(tmp_path / "password")}}})
    assert load_signer(settings.signer_for(ORG), {}).subject_name == "École Imaginaire"


def test_a_wrong_password_in_the_environment_names_the_variable_not_the_password(demo_pki):
    with pytest.raises(WrongPassword) as caught:
        load_signer(pkcs12_settings(demo_pki).signer_for(ORG), {"SCHOOL_P12_PASSWORD": WRONG})
    assert "SCHOOL_P12_PASSWORD" in str(caught.value) and ORG in str(caught.value)
    assert_password_absent(caught.value, WRONG, demo_pki.password())


def test_an_unset_password_variable_is_named(demo_pki):
    with pytest.raises(PasswordMissing, match="SCHOOL_P12_PASSWORD"):
        load_signer(pkcs12_settings(demo_pki).signer_for(ORG), {})


def test_a_missing_file_is_unreadable_and_named(tmp_path):
    settings = parse_signing_settings({"DOCUMENT_PORTAL_SIGNERS": {ORG: {
        "pkcs12": str(tmp_path / "absent.p12"), "password_env": "P"}}})
    with pytest.raises(CredentialsUnreadable, match="absent.p12"):
        load_signer(settings.signer_for(ORG), {"P": WRONG})


def test_an_organization_without_a_signer_is_a_typed_error(demo_pki):
    with pytest.raises(NoSignerForOrganization):
        pkcs12_settings(demo_pki).signer_for("O999")


def test_the_defaults_parse_to_no_signer_and_b_b_signatures():
    settings = parse_signing_settings(SIGNING_DEFAULTS)
    assert settings.signers == {} and settings.tsa_url is None and settings.max_pdf_bytes == 10 * 1024 * 1024


def test_trust_roots_from_one_environment_variable_are_split_on_commas():
    settings = parse_signing_settings({"DOCUMENT_PORTAL_TRUST_ROOTS": "/etc/a.pem, /etc/b.pem"})
    assert [str(path) for path in settings.trust_roots] == ["/etc/a.pem", "/etc/b.pem"]


def test_an_unreadable_trust_root_is_named(tmp_path):
    (tmp_path / "root.pem").write_text("not a certificate")
    with pytest.raises(SignerConfigError, match="root.pem"):
        load_trust_roots([tmp_path / "root.pem"])


@pytest.mark.parametrize(("entry", "message"), [
    ({"pkcs12": "a.p12", "key": "k.pem", "certificate": "c.pem", "password_env": "P"}, "either pkcs12"),
    ({"key": "k.pem", "password_env": "P"}, "both key and certificate"),
    ({"pkcs12": "a.p12"}, "password_env and password_file"),
    ({"pkcs12": "a.p12", "password_env": "P", "password_file": "p"}, "password_env and password_file"),
    ({"pkcs12": "a.p12", "password_env": "not a name"}, "environment variable"),
    ({"pkcs12": "a.p12", "password_env": "P", "pasword": "typo"}, "unknown keys pasword"),
    ({"pkcs12": "a.p12", "password_env": "P", "chain": ["c.pem"]}, "chain goes with PEM"),
    ({"pkcs12": "", "password_env": "P"}, "file path"),
    ("a.p12", "must be a table"),
])
def test_a_wrong_signer_table_names_the_setting(entry, message):
    with pytest.raises(SignerConfigError, match=message) as caught:
        parse_signing_settings({"DOCUMENT_PORTAL_SIGNERS": {ORG: entry}})
    assert f'DOCUMENT_PORTAL_SIGNERS."{ORG}"' in str(caught.value)


@pytest.mark.parametrize(("key", "value"), [
    ("DOCUMENT_PORTAL_TSA_URL", "ftp://tsa.example"),
    ("DOCUMENT_PORTAL_TSA_TIMEOUT", 0),
    ("DOCUMENT_PORTAL_MAX_PDF_BYTES", "10MB"),
    ("DOCUMENT_PORTAL_SIGNERS", ["O1"]),
    ("DOCUMENT_PORTAL_TRUST_ROOTS", 3),
])
def test_wrong_signing_settings_are_named(key, value):
    with pytest.raises(SignerConfigError, match=key):
        parse_signing_settings({key: value})


def test_a_signer_that_chains_to_the_trust_roots_loads(demo_pki, trust_roots):
    config = pkcs12_settings(demo_pki).signer_for(ORG)
    credentials = load_signer(config, {"SCHOOL_P12_PASSWORD": demo_pki.password()}, trust_roots, at=SIGNED_AT)
    assert credentials.subject_name == "École Imaginaire"


def test_a_signer_from_another_authority_is_refused_before_it_signs(foreign_pki, trust_roots):
    config = pkcs12_settings(foreign_pki).signer_for(ORG)
    with pytest.raises(SignerNotTrusted, match="DOCUMENT_PORTAL_TRUST_ROOTS") as caught:
        load_signer(config, {"SCHOOL_P12_PASSWORD": foreign_pki.password()}, trust_roots, at=SIGNED_AT)
    assert ORG in str(caught.value)
    assert_password_absent(caught.value, foreign_pki.password())


def test_an_expired_signer_is_refused(demo_pki, trust_roots):
    config = pkcs12_settings(demo_pki).signer_for(ORG)
    with pytest.raises(SignerNotTrusted):
        load_signer(config, {"SCHOOL_P12_PASSWORD": demo_pki.password()}, trust_roots,
                    at=SIGNED_AT + timedelta(days=6 * 365))
