"""next_step(): the rule list that decides where a sign-in goes (no database needed)."""

from __future__ import annotations

from idp.signin.flow import CONSENT_DENIED, RULES, SESSION_REUSED, Step, is_authenticated, is_denied, next_step
from idp.signin.models import SigninTransaction

WHEN = "2026-11-23T19:00:00+00:00"


def transaction(user_id=None, needs_consent=False, **steps_done) -> SigninTransaction:
    return SigninTransaction(user_id=user_id, needs_consent=needs_consent, steps_done=dict(steps_done))


def test_a_new_sign_in_asks_for_the_password():
    assert next_step(transaction()) is Step.PASSWORD


def test_after_the_password_a_sign_in_without_consent_is_done():
    assert next_step(transaction(user_id=1, password=WHEN)) is Step.DONE


def test_consent_comes_after_authentication_when_needed():
    assert next_step(transaction(needs_consent=True)) is Step.PASSWORD
    assert next_step(transaction(user_id=1, needs_consent=True, password=WHEN)) is Step.CONSENT
    assert next_step(transaction(user_id=1, needs_consent=True, password=WHEN, consent=WHEN)) is Step.DONE


def test_a_reused_session_counts_as_authentication():
    txn = transaction(user_id=1, needs_consent=True, **{SESSION_REUSED: WHEN})
    assert is_authenticated(txn)
    assert next_step(txn) is Step.CONSENT


def test_a_step_record_without_a_person_does_not_authenticate():
    assert next_step(transaction(user_id=None, password=WHEN)) is Step.PASSWORD


def test_denied_consent_ends_the_flow_as_denied():
    txn = transaction(user_id=1, needs_consent=True, password=WHEN, **{CONSENT_DENIED: WHEN})
    assert next_step(txn) is Step.DONE
    assert is_denied(txn)
    assert not is_denied(transaction(user_id=1, password=WHEN))


def test_every_rule_names_a_step_a_person_can_be_sent_to():
    assert [step for step, _rule in RULES] == [Step.PASSWORD, Step.CONSENT]
    assert Step.DONE not in {step for step, _rule in RULES}
