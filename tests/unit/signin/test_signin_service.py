"""SigninService on a real database: handles, passwords without enumeration, consent,
single completion."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idp.audit import EventTag, SecurityEvent
from idp.extensions import db
from idp.oidc.models import Consent
from idp.signin.errors import InvalidCredentials, StepNotAllowed
from idp.signin.flow import EMAIL_CODE, Step, is_denied, next_step
from idp.signin.models import SigninTransaction
from idp.signin.services import SigninService
from tests.unit.signin.conftest import PASSWORD


def begin(service, **options):
    options.setdefault("authorization_request", {"client_id": "portal", "scope": "openid email"})
    options.setdefault("client_id", "portal")
    return service.begin(**options)


def test_the_database_holds_only_a_keyed_hash_of_the_handle(signin_service):
    txn, plain_handle = begin(signin_service)
    assert len(plain_handle) >= 43  # 32 random bytes
    assert txn.handle_hash != plain_handle and plain_handle not in txn.handle_hash
    assert signin_service.find(plain_handle) is txn
    assert signin_service.find(plain_handle + "x") is None
    assert signin_service.find(None) is None


def test_a_transaction_expires_after_its_ttl(signin_service, clock, ctx):
    _txn, plain_handle = begin(signin_service)
    clock.advance(ctx.settings.SIGNIN_TRANSACTION_TTL - 1)
    assert signin_service.find(plain_handle) is not None
    clock.advance(1)
    assert signin_service.find(plain_handle) is None


def test_the_right_password_identifies_the_person_and_records_the_step(signin_service, user, clock):
    txn, _ = begin(signin_service)
    assert signin_service.verify_password(txn, " ANA@example.ca", PASSWORD) is user
    assert txn.user_id == user.id
    assert txn.steps_done[Step.PASSWORD] == clock().isoformat()
    assert next_step(txn) is Step.SECOND_FACTOR


@pytest.mark.parametrize(
    ("email", "password"),
    [("ana@example.ca", "wrong password"), ("nobody@example.ca", PASSWORD), ("not an address", PASSWORD)],
)
def test_wrong_password_and_unknown_email_fail_alike(signin_service, user, email, password):
    txn, _ = begin(signin_service)
    with pytest.raises(InvalidCredentials):
        signin_service.verify_password(txn, email, password)
    assert txn.user_id is None
    assert Step.PASSWORD.value not in txn.steps_done


def test_unknown_email_runs_the_same_argon2_verification(signin_service, user, passwords):
    txn, _ = begin(signin_service)
    with pytest.raises(InvalidCredentials):
        signin_service.verify_password(txn, "nobody@example.ca", PASSWORD)
    with pytest.raises(InvalidCredentials):
        signin_service.verify_password(txn, "ana@example.ca", "wrong password")
    # One full verification each: a dummy hash for the unknown address, the real one otherwise.
    assert passwords.verified == [None, user.password_hash]


def test_a_disabled_account_fails_like_a_wrong_password(signin_service, user, clock):
    user.disabled_at = clock()
    txn, _ = begin(signin_service)
    with pytest.raises(InvalidCredentials):
        signin_service.verify_password(txn, "ana@example.ca", PASSWORD)


def test_a_reusable_session_skips_the_password_step(signin_service, user):
    txn, _ = begin(signin_service, authenticated_user_id=user.id, needs_consent=True)
    assert txn.user_id == user.id
    assert next_step(txn) is Step.ENROLMENT  # passed at once by the web layer if set up
    signin_service.record_step(txn, Step.ENROLMENT.value)
    assert next_step(txn) is Step.CONSENT


def test_consent_before_authentication_is_refused(signin_service):
    txn, _ = begin(signin_service, needs_consent=True)
    with pytest.raises(StepNotAllowed):
        signin_service.decide_consent(txn, is_allowed=True)


def authenticate(signin_service, txn) -> None:
    """The password, the emailed code and the terms, as their views record them."""
    signin_service.verify_password(txn, "ana@example.ca", PASSWORD)
    for step in (EMAIL_CODE, Step.ENROLMENT.value, Step.TERMS.value):
        signin_service.record_step(txn, step)


def test_consent_after_the_password_alone_is_refused(signin_service, user):
    """MFA-08: the consent POST before the second factor changes nothing."""
    txn, _ = begin(signin_service, needs_consent=True)
    signin_service.verify_password(txn, "ana@example.ca", PASSWORD)
    with pytest.raises(StepNotAllowed):
        signin_service.decide_consent(txn, is_allowed=True)
    assert not signin_service.has_remembered_consent(user.id, "portal", "openid")


def test_allowed_consent_is_remembered_for_the_client_and_scopes(signin_service, user):
    txn, _ = begin(signin_service, needs_consent=True)
    authenticate(signin_service, txn)
    signin_service.decide_consent(txn, is_allowed=True)
    assert next_step(txn) is Step.DONE and not is_denied(txn)
    assert signin_service.has_remembered_consent(user.id, "portal", "openid email")
    assert signin_service.has_remembered_consent(user.id, "portal", "email")
    assert not signin_service.has_remembered_consent(user.id, "portal", "openid phone")
    assert not signin_service.has_remembered_consent(user.id, "other-client", "openid")


def test_consenting_again_adds_scopes_to_the_one_row(signin_service, user):
    signin_service.record_consent(user.id, "portal", "openid email")
    signin_service.record_consent(user.id, "portal", "openid phone")
    consents = db.session.scalars(select(Consent).where(Consent.user_id == user.id)).all()
    assert len(consents) == 1
    assert consents[0].scope == "openid email phone"


def test_denied_consent_ends_the_flow_and_remembers_nothing(signin_service, user):
    txn, _ = begin(signin_service, needs_consent=True)
    authenticate(signin_service, txn)
    signin_service.decide_consent(txn, is_allowed=False)
    assert next_step(txn) is Step.DONE
    assert is_denied(txn)
    assert db.session.scalar(select(func.count()).select_from(Consent)) == 0


def test_a_transaction_completes_only_once(signin_service):
    txn, plain_handle = begin(signin_service)
    assert signin_service.complete(txn) is True
    assert signin_service.complete(txn) is False
    assert txn.completed_at is not None
    assert signin_service.find(plain_handle) is None


def test_completion_is_decided_by_the_database_not_by_the_loaded_object(signin_service):
    """Two workers holding the same transaction: the second conditional UPDATE finds nothing."""
    txn, _ = begin(signin_service)
    db.session.commit()
    with Session(db.engine) as other_worker:
        same_txn = other_worker.get(SigninTransaction, txn.id)
        assert signin_service.complete(txn) is True
        db.session.commit()
        rival = SigninService(other_worker, signin_service.settings, signin_service.clock,
                              signin_service.hasher, signin_service.passwords)
        assert same_txn.completed_at is None  # stale in memory
        assert rival.complete(same_txn) is False


def test_a_wrong_password_is_counted_and_recorded(signin_service, user):
    txn, _ = begin(signin_service)
    with pytest.raises(InvalidCredentials):
        signin_service.verify_password(txn, "ana@example.ca", "wrong password", ip_address="192.0.2.9")
    assert user.failed_signin_count == 1
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.SIGNIN_FAILURE)))
    assert (event.user_id, event.ip_address, event.details["reason"]) == (user.id, "192.0.2.9", "wrong_password")


def test_an_unknown_address_is_recorded_without_an_account(signin_service, user):
    txn, _ = begin(signin_service)
    with pytest.raises(InvalidCredentials):
        signin_service.verify_password(txn, "nobody@example.ca", PASSWORD)
    event = db.session.scalar(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.SIGNIN_FAILURE)))
    assert event.user_id is None and event.details == {"step": "password", "reason": "unknown_account"}


@pytest.mark.parametrize(("failures", "reason"), [(3, "too_early"), (10, "locked")])
def test_a_refused_attempt_checks_nothing_but_costs_the_same(signin_service, user, passwords, clock, failures, reason):
    """ENUM-01: during the delay or a lock even the right password fails, after the same
    argon2 work (against the dummy hash, never the real one) and without counting."""
    user.failed_signin_count = failures - 1
    signin_service.throttle.record_failure(user)
    passwords.verified.clear()
    txn, _ = begin(signin_service)
    with pytest.raises(InvalidCredentials):
        signin_service.verify_password(txn, "ana@example.ca", PASSWORD)
    assert passwords.verified == [None]
    assert user.failed_signin_count == failures
    assert txn.user_id is None
    last = db.session.scalars(select(SecurityEvent).order_by(SecurityEvent.id.desc())).first()
    assert last.tag == str(EventTag.SIGNIN_FAILURE) and last.details["reason"] == reason


def test_the_right_password_after_the_delay_goes_on_to_the_second_factor(signin_service, user, clock):
    user.failed_signin_count = 2
    signin_service.throttle.record_failure(user)
    clock.advance(1)
    txn, _ = begin(signin_service)
    assert signin_service.verify_password(txn, "ana@example.ca", PASSWORD) is user
    assert next_step(txn) is Step.SECOND_FACTOR
    assert user.failed_signin_count == 3  # cleared only when the whole sign-in succeeds
