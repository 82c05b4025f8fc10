"""Recovery codes: 10 of them, at least 50 bits each, stored as keyed hashes, single use,
and a new set invalidates the old one (seed 002)."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.mfa import recovery_codes
from idp.mfa.base import FactorContext
from idp.mfa.errors import InvalidCode
from idp.mfa.models import RecoveryCode
from idp.mfa.recovery import RecoveryCodeService

CONTEXT = FactorContext(transaction_id=None, locale="en", ip_address="192.0.2.7", user_agent="pytest")


@pytest.fixture
def service(ctx, throttle):
    return RecoveryCodeService(db.session, ctx.settings, ctx.clock, ctx.hasher, throttle)


def test_each_code_has_at_least_50_bits_and_reads_in_groups():
    assert recovery_codes.LENGTH * math.log2(len(recovery_codes.ALPHABET)) >= 50
    [code] = recovery_codes.new_codes(1)
    assert recovery_codes.is_well_formed(code)
    shown = recovery_codes.display(code)
    assert len(shown.split("-")) == 3 and recovery_codes.canonical(shown.lower()) == code


def test_look_alike_letters_are_read_as_digits():
    assert recovery_codes.canonical("oi1l-ABCD 2345") == "0111ABCD2345"


def test_codes_are_stored_as_keyed_hashes_and_work_once(service, user, clock):
    codes = service.generate(user.id)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert all(len(value) == 64 for value in stored)
    assert not {code.replace("-", "") for code in codes} & set(stored)
    service.use(user.id, codes[0], CONTEXT)
    assert service.remaining(user.id) == 9
    clock.advance(seconds=1)
    with pytest.raises(InvalidCode):
        service.use(user.id, codes[0], CONTEXT)


def test_a_new_set_invalidates_every_earlier_code(service, user, clock):
    old = service.generate(user.id)
    new = service.generate(user.id)
    assert service.remaining(user.id) == 10
    with pytest.raises(InvalidCode):
        service.use(user.id, old[1], CONTEXT)
    clock.advance(seconds=60)
    service.use(user.id, new[1], CONTEXT)


@pytest.mark.parametrize("typed", ["", "x" * 40, "AAAA-AAAA-AAAA", "\u00e9" * 12])
def test_wrong_codes_are_one_error(service, user, typed):
    service.generate(user.id)
    with pytest.raises(InvalidCode):
        service.use(user.id, typed, CONTEXT)
