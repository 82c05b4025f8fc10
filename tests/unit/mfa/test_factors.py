"""The Factor interface and the choice among a person's factors (what issue 4 builds on)."""

from __future__ import annotations

import pytest

from idp.mfa.base import Factor
from idp.mfa.email_code import EmailCodeFactor, mask_email
from idp.mfa.errors import FactorNotAvailable
from idp.mfa.factors import FACTOR_TYPES, build_factors
from idp.mfa.services import MfaService
from idp.signin.assurance import ACR_PASSWORD, ACR_PASSWORD_EMAIL, AMR_EMAIL, acr_for
from idp.signin.flow import DEFAULT_POLICY, WEBAUTHN, WEBAUTHN_SYNCED, factor_amr
from idp.extensions import db
from tests.unit.mfa.conftest import sent_codes


@pytest.fixture
def mfa(ctx, mail, throttle):
    factors = build_factors(db.session, ctx.settings, ctx.clock, ctx.hasher, mail, throttle, ctx.secret_box)
    return MfaService(db.session, ctx.settings, ctx.clock, factors)


def test_every_factor_implements_the_protocol_and_is_a_second_step_of_the_flow(mfa):
    for factor in mfa.factors:
        assert isinstance(factor, Factor)
    assert {factor_type.name for factor_type in FACTOR_TYPES} == set(DEFAULT_POLICY.second_factors)


def test_the_emailed_code_is_honest_about_what_it_proves():
    """Issue 4 / NIST SP 800-63B §5.1.3.1: not "otp" or "mfa", and not a two-factor level."""
    assert factor_amr("email_code") == (AMR_EMAIL,) == ("email",)
    assert acr_for(["pwd", "email"]) == ACR_PASSWORD_EMAIL != ACR_PASSWORD
    assert acr_for(["pwd"]) == ACR_PASSWORD
    with pytest.raises(KeyError):
        factor_amr("carrier-pigeon")


def test_each_factor_class_carries_the_amr_the_sign_in_records():
    for factor_type in FACTOR_TYPES:
        assert factor_type.amr == factor_amr(factor_type.name)
    assert factor_amr(WEBAUTHN) == ("hwk",)
    assert factor_amr(WEBAUTHN, {WEBAUTHN: "2026-01-01T00:00:00+00:00", WEBAUTHN_SYNCED: "x"}) == ("swk",)


def test_a_person_with_an_email_address_is_asked_for_the_emailed_code(mfa, user):
    factor = mfa.preferred(user)
    assert isinstance(factor, EmailCodeFactor)
    assert factor.endpoint == "mfa.email_code"
    assert mfa.get("email_code", user) is factor


def test_without_any_factor_there_is_nothing_to_ask(mfa, user):
    user.email = ""
    with pytest.raises(FactorNotAvailable):
        mfa.preferred(user)
    with pytest.raises(FactorNotAvailable):
        mfa.get("email_code", user)


def test_begin_and_verify_through_the_protocol(mfa, mail, user, context):
    factor = mfa.preferred(user)
    assert factor.begin(user, context) is not None
    factor.verify(user, sent_codes(mail)[-1], context)


@pytest.mark.parametrize(
    ("address", "masked"),
    [("ana@example.ca", "a***@example.ca"), ("a@b.ca", "a***@b.ca"), ("no-at-sign", "***"), ("", "***")],
)
def test_the_page_shows_the_address_masked(address, masked):
    assert mask_email(address) == masked
