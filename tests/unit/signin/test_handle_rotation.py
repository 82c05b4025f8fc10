"""SigninService.rotate_handle: a new handle after each completed factor, none otherwise
(issue 9 item 6); is_completed tells a spent handle from an unknown one."""

from __future__ import annotations

from idp.signin.flow import CONSENT_DENIED, EMAIL_CODE, PARTNER, TOTP, Step
from tests.unit.signin.conftest import PASSWORD


def begin(service):
    return service.begin(authorization_request={"client_id": "portal", "scope": "openid"}, client_id="portal")


def test_a_new_handle_follows_each_factor_and_the_old_one_stops_working(signin_service, user):
    txn, first = begin(signin_service)
    assert signin_service.rotate_handle(txn) is None  # nothing done yet
    signin_service.verify_password(txn, "ana@example.ca", PASSWORD)
    second = signin_service.rotate_handle(txn)
    assert second and second != first
    assert signin_service.find(first) is None and signin_service.find(second) is txn
    assert signin_service.rotate_handle(txn) is None  # once per factor
    for factor in (EMAIL_CODE, TOTP, PARTNER):
        signin_service.record_step(txn, factor)
        newer = signin_service.rotate_handle(txn)
        assert newer and signin_service.find(second) is None and signin_service.find(newer) is txn
        second = newer


def test_steps_that_prove_nothing_keep_the_handle(signin_service, user):
    txn, handle = begin(signin_service)
    for step in (Step.TERMS.value, Step.CONSENT.value, CONSENT_DENIED):
        signin_service.record_step(txn, step)
        assert signin_service.rotate_handle(txn) is None
    assert signin_service.find(handle) is txn


def test_a_completed_transaction_is_told_apart_from_an_unknown_handle(signin_service):
    txn, handle = begin(signin_service)
    assert not signin_service.is_completed(handle)
    signin_service.complete(txn)
    assert signin_service.is_completed(handle)
    assert not signin_service.is_completed("unknown") and not signin_service.is_completed(None)
