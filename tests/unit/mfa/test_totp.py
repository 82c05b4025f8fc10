"""The authenticator app: RFC 6238 codes with a fixed clock, the drift window, replay, the
secret encrypted at rest, and the failure throttle."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from idp.extensions import db
from idp.mfa import totp
from idp.mfa.authenticator_app import TotpFactor, TotpService
from idp.mfa.base import FactorContext
from idp.mfa.errors import AccountLocked, AttemptTooEarly, FactorNotAvailable, InvalidCode

MOMENT = datetime(2026, 12, 3, 12, 0, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code_at(moment: datetime, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(moment)


def test_rfc_6238_appendix_b_vector_with_six_digits():
    # RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082, whose last 6 digits pyotp yields.
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp.accepted_step(secret, "287082", datetime.fromtimestamp(59, UTC), None) == 1


def test_a_code_is_accepted_one_step_either_way_and_no_further():
    for offset, accepted in ((-60, False), (-30, True), (0, True), (30, True), (60, False)):
        code = code_at(MOMENT + timedelta(seconds=offset))
        if accepted:
            assert totp.accepted_step(SECRET, code, MOMENT, None) == totp.step_at(MOMENT + timedelta(seconds=offset))
        else:
            with pytest.raises(totp.TotpRejected):
                totp.accepted_step(SECRET, code, MOMENT, None)


def test_a_code_is_refused_once_its_step_or_a_later_one_was_used():
    step = totp.accepted_step(SECRET, code_at(MOMENT), MOMENT, None)
    with pytest.raises(totp.TotpRejected):
        totp.accepted_step(SECRET, code_at(MOMENT), MOMENT, step)
    with pytest.raises(totp.TotpRejected):  # an older code after a newer one
        totp.accepted_step(SECRET, code_at(MOMENT - timedelta(seconds=30)), MOMENT, step)
    assert totp.accepted_step(SECRET, code_at(MOMENT + timedelta(seconds=30)), MOMENT + timedelta(seconds=30), step) == step + 1


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", None])
def test_malformed_codes_are_rejected(typed):
    with pytest.raises(totp.TotpRejected):
        totp.accepted_step(SECRET, typed, MOMENT, None)


def test_new_secrets_are_160_bits_and_the_uri_names_the_issuer():
    secret = totp.new_secret()
    assert len(secret) == 32 and secret != totp.new_secret()
    uri = totp.provisioning_uri(secret, "ana@example.ca", "Passerelle")
    assert uri.startswith("otpauth://totp/Passerelle:ana%40example.ca?") and "issuer=Passerelle" in uri
    assert totp.grouped("ABCDEFGH") == "ABCD EFGH"
    assert totp.qr_svg(uri, title="QR").startswith("<svg")


@pytest.fixture
def service(ctx, throttle):
    return TotpService(db.session, ctx.settings, ctx.clock, ctx.secret_box, throttle)


CONTEXT = FactorContext(transaction_id=None, locale="en", ip_address="192.0.2.7", user_agent="pytest")


def enrol(service, user, clock) -> str:
    pending = service.begin_enrolment(user)
    secret = pending.grouped_secret.replace(" ", "")
    service.confirm_enrolment(user, code_at(clock(), secret), CONTEXT)
    db.session.commit()
    return secret


def test_enrolment_keeps_one_pending_secret_and_confirms_with_a_code(service, user, clock):
    first = service.begin_enrolment(user)
    assert service.begin_enrolment(user) == first  # a reload shows the same key
    assert not TotpFactor(service).is_enrolled(user)
    secret = first.grouped_secret.replace(" ", "")
    assert secret.encode() not in service.find(user.id).secret_encrypted
    service.confirm_enrolment(user, code_at(clock(), secret), CONTEXT)
    assert TotpFactor(service).is_enrolled(user)
    with pytest.raises(FactorNotAvailable):
        service.begin_enrolment(user)  # a confirmed app is replaced only after a recovery
    replacement = service.begin_enrolment(user, replaces_lost_app=True)
    assert replacement.grouped_secret != first.grouped_secret and not TotpFactor(service).is_enrolled(user)


def test_verify_accepts_once_then_refuses_the_replay(service, user, clock):
    secret = enrol(service, user, clock)
    clock.advance(seconds=30)
    service.verify(user.id, code_at(clock(), secret), CONTEXT)
    with pytest.raises(InvalidCode):
        service.verify(user.id, code_at(clock(), secret), CONTEXT)


def test_wrong_codes_are_throttled_then_lock_the_account(service, user, clock, ctx):
    enrol(service, user, clock)
    errors = []
    for _ in range(int(ctx.settings.SIGNIN_LOCK_THRESHOLD)):
        clock.advance(seconds=int(ctx.settings.SIGNIN_MAX_DELAY) + 1)
        try:
            service.verify(user.id, "000000", CONTEXT)
        except (InvalidCode, AccountLocked) as error:
            errors.append(type(error))
        db.session.commit()
    assert errors[-1] is AccountLocked
    with pytest.raises(AccountLocked):
        service.verify(user.id, "000000", CONTEXT)
    clock.advance(seconds=1)


def test_a_quick_second_guess_waits(service, user, clock, ctx):
    enrol(service, user, clock)
    for _ in range(int(ctx.settings.SIGNIN_DELAY_AFTER)):
        with pytest.raises(InvalidCode):
            service.verify(user.id, "000000", CONTEXT)
    with pytest.raises(AttemptTooEarly):
        service.verify(user.id, "000000", CONTEXT)


def test_an_app_counts_as_just_confirmed_while_its_confirming_code_may_still_be_on_screen(service, user, clock):
    assert not service.was_just_confirmed(user.id)  # no app
    enrol(service, user, clock)
    assert service.was_just_confirmed(user.id)
    clock.advance(seconds=59)
    assert service.was_just_confirmed(user.id)
    clock.advance(seconds=1)
    assert not service.was_just_confirmed(user.id)  # the confirming code has left the window
