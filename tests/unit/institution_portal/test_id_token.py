"""The portal's ID token checks, on tokens this test signs with its own key and serves
through a stub JWKS (no Passerelle needed): Authlib's signature, iss, aud, exp and nonce
checks, then the portal's own: two-factor (acr and amr) and a DLI membership."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from clients.institution_portal.claims import check_identity, reaches
from clients.institution_portal.errors import (
    AssuranceTooLow,
    InvalidIdToken,
    NoMembership,
    NotAnInstitution,
)
from clients.institution_portal.web import Portal
from tests.institution_portal_support import build_portal

ISSUER = "https://passerelle.test"
CLIENT_ID = "institution-portal"
NONCE = "n-0S6_WzA2Mj"
ACRS = ["urn:passerelle:acr:pwd", "urn:passerelle:acr:pwd-email", "urn:passerelle:acr:mfa", "urn:passerelle:acr:mfa-phr"]
ORGANIZATION = {"id": "Jd2kq0Xw3mZ1Lp8v", "kind": "dli", "number": "O123456789012",
                "name": {"fr": "Collège Imaginaire", "en": "Imaginary College"}, "role": "primary"}
KEY = ECKey.generate_key("P-256", parameters={"kid": "test-key"})
OTHER_KEY = ECKey.generate_key("P-256", parameters={"kid": "test-key"})


class Registration:
    client_id = CLIENT_ID
    client_secret = "not-a-real-secret"


@pytest.fixture
def passerelle(tmp_path):
    app = build_portal(ISSUER, Registration(), tmp_path / "portal.db")
    portal: Portal = app.extensions["institution_portal"]
    # The discovery document and JWKS Passerelle would serve, without the network.
    portal.passerelle.client.server_metadata.update({
        "issuer": ISSUER, "_loaded_at": time.time(), "jwks": {"keys": [KEY.as_dict(private=False)]},
        "id_token_signing_alg_values_supported": ["ES256", "RS256"], "acr_values_supported": ACRS,
    })
    with app.app_context():
        yield portal.passerelle


def id_token(key=KEY, **claims) -> dict:
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "pairwise-sub-1", "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": NONCE,
            "acr": "urn:passerelle:acr:mfa", "amr": ["pwd", "otp", "mfa"], "organization": ORGANIZATION, **claims}
    body = {name: value for name, value in body.items() if value is not None}
    return {"id_token": jwt.encode({"alg": "ES256", "kid": "test-key"}, body, key), "token_type": "Bearer"}


def test_a_valid_token_of_a_dli_member_with_two_factor_gives_the_identity(passerelle):
    identity = passerelle.verify_id_token(id_token(), NONCE)
    assert (identity.sub, identity.role, identity.organization_number) == ("pairwise-sub-1", "primary", "O123456789012")
    assert (identity.organization_name_fr, identity.organization_name_en) == ("Collège Imaginaire", "Imaginary College")


def test_phishing_resistant_two_factor_is_above_the_required_level(passerelle):
    token = id_token(acr="urn:passerelle:acr:mfa-phr", amr=["pwd", "hwk", "mfa"])
    assert passerelle.verify_id_token(token, NONCE).acr == "urn:passerelle:acr:mfa-phr"


@pytest.mark.parametrize(("acr", "amr"), [
    ("urn:passerelle:acr:pwd-email", ["pwd", "email"]),
    ("urn:passerelle:acr:pwd", ["pwd"]),
    ("urn:passerelle:acr:pwd", ["fed"]),
    ("urn:passerelle:acr:mfa", ["pwd", "otp"]),  # no mfa in amr
    ("urn:example:unknown", ["pwd", "otp", "mfa"]),
    (None, ["pwd", "otp", "mfa"]),
])
def test_a_sign_in_below_two_factor_is_refused(passerelle, acr, amr):
    with pytest.raises(AssuranceTooLow):
        passerelle.verify_id_token(id_token(acr=acr, amr=amr), NONCE)


def test_a_person_without_membership_is_refused(passerelle):
    token = id_token(organization=None)
    with pytest.raises(NoMembership):
        passerelle.verify_id_token(token, NONCE)


def test_a_member_of_another_kind_of_organization_is_refused(passerelle):
    with pytest.raises(NotAnInstitution):
        passerelle.verify_id_token(id_token(organization={**ORGANIZATION, "kind": "issuer"}), NONCE)


def test_a_malformed_organization_claim_is_refused(passerelle):
    with pytest.raises(InvalidIdToken):
        passerelle.verify_id_token(id_token(organization={**ORGANIZATION, "role": "owner"}), NONCE)


@pytest.mark.parametrize("token", [
    pytest.param(lambda: id_token(aud="another-client"), id="another audience"),
    pytest.param(lambda: id_token(iss="https://evil.example"), id="another issuer"),
    pytest.param(lambda: id_token(exp=int(time.time()) - 600, iat=int(time.time()) - 900), id="expired"),
    pytest.param(lambda: id_token(nonce="replayed"), id="another nonce"),
    pytest.param(lambda: id_token(nonce=None), id="no nonce"),
    pytest.param(lambda: id_token(key=OTHER_KEY), id="signed by another key"),
])
def test_a_token_authlib_rejects_is_invalid(passerelle, token):
    with pytest.raises(InvalidIdToken):
        passerelle.verify_id_token(token(), NONCE)


def test_reaching_a_level_follows_passerelle_order():
    assert reaches("urn:passerelle:acr:mfa", "urn:passerelle:acr:mfa", [])
    assert reaches("urn:passerelle:acr:mfa-phr", "urn:passerelle:acr:mfa", ACRS)
    assert not reaches("urn:passerelle:acr:mfa-phr", "urn:passerelle:acr:mfa", [])  # order unknown: exact only
    assert not reaches("urn:passerelle:acr:pwd-email", "urn:passerelle:acr:mfa", ACRS)
    assert not reaches(["urn:passerelle:acr:mfa"], "urn:passerelle:acr:mfa", ACRS)


def test_check_identity_needs_a_sub():
    claims = {"acr": "urn:passerelle:acr:mfa", "amr": ["mfa"], "organization": ORGANIZATION}
    with pytest.raises(InvalidIdToken):
        check_identity(claims, "urn:passerelle:acr:mfa", ACRS)
