"""next_step(): the rule list that decides where a sign-in goes (no database needed)."""

from __future__ import annotations

from idp.signin.flow import (
    CONSENT_DENIED,
    EMAIL_CODE,
    RULES,
    SESSION_REUSED,
    TERMS_DECLINED,
    SigninPolicy,
    Step,
    is_authenticated,
    is_denied,
    is_identified,
    next_step,
    second_factor_used,
)
from idp.signin.models import SigninTransaction

WHEN = "2026-11-23T19:00:00+00:00"
# Password and emailed code done, two-factor set up, terms accepted: what most tests start from.
AUTHENTICATED = {"password": WHEN, EMAIL_CODE: WHEN, "enrolment": WHEN, "terms": WHEN}


def transaction(user_id=None, needs_consent=False, **steps_done) -> SigninTransaction:
    return SigninTransaction(user_id=user_id, needs_consent=needs_consent, steps_done=dict(steps_done))


def test_a_new_sign_in_asks_for_the_password():
    assert next_step(transaction()) is Step.PASSWORD


def test_after_the_password_comes_the_second_factor():
    txn = transaction(user_id=1, password=WHEN)
    assert is_identified(txn) and not is_authenticated(txn)
    assert next_step(txn) is Step.SECOND_FACTOR


def test_after_the_emailed_code_come_the_set_up_then_the_terms_then_done():
    txn = transaction(user_id=1, password=WHEN, **{EMAIL_CODE: WHEN})
    assert is_authenticated(txn)
    assert second_factor_used(txn) == EMAIL_CODE
    assert next_step(txn) is Step.ENROLMENT
    assert next_step(transaction(user_id=1, password=WHEN, enrolment=WHEN, **{EMAIL_CODE: WHEN})) is Step.TERMS
    assert next_step(transaction(user_id=1, **AUTHENTICATED)) is Step.DONE


def test_the_order_is_password_second_factor_enrolment_terms_consent():
    done: dict[str, str] = {}
    seen = []
    for key in ("password", EMAIL_CODE, "enrolment", "terms", "consent"):
        seen.append(next_step(transaction(user_id=1, needs_consent=True, **done)))
        done[key] = WHEN
    seen.append(next_step(transaction(user_id=1, needs_consent=True, **done)))
    assert seen == [Step.PASSWORD, Step.SECOND_FACTOR, Step.ENROLMENT, Step.TERMS, Step.CONSENT, Step.DONE]


def test_consent_comes_after_authentication_when_needed():
    assert next_step(transaction(needs_consent=True)) is Step.PASSWORD
    assert next_step(transaction(user_id=1, needs_consent=True, **AUTHENTICATED)) is Step.CONSENT
    assert next_step(transaction(user_id=1, needs_consent=True, consent=WHEN, **AUTHENTICATED)) is Step.DONE


def test_consent_is_never_next_before_the_second_factor():
    """MFA-08: the password alone never reaches consent (or a code for the client)."""
    txn = transaction(user_id=1, needs_consent=True, password=WHEN, terms=WHEN)
    assert next_step(txn) is Step.SECOND_FACTOR


def test_a_reused_session_counts_as_authentication_and_skips_factor_and_terms():
    txn = transaction(user_id=1, needs_consent=True, **{SESSION_REUSED: WHEN})
    assert is_authenticated(txn)
    # The set-up step stays: the web layer passes it at once for someone who has a method.
    assert next_step(txn) is Step.ENROLMENT
    txn = transaction(user_id=1, needs_consent=True, enrolment=WHEN, **{SESSION_REUSED: WHEN})
    assert next_step(txn) is Step.CONSENT


def test_a_step_record_without_a_person_does_not_authenticate():
    assert next_step(transaction(user_id=None, password=WHEN)) is Step.PASSWORD
    assert next_step(transaction(user_id=None, **AUTHENTICATED)) is Step.PASSWORD


def test_an_unknown_step_name_is_not_a_second_factor():
    assert next_step(transaction(user_id=1, password=WHEN, totp_typo=WHEN)) is Step.SECOND_FACTOR


def test_a_new_factor_is_one_more_name_in_the_policy():
    policy = SigninPolicy(second_factors=frozenset({EMAIL_CODE, "totp"}))
    txn = transaction(user_id=1, password=WHEN, totp=WHEN, enrolment=WHEN)
    assert next_step(txn, policy) is Step.TERMS
    assert second_factor_used(txn, policy) == "totp"


def test_a_policy_without_a_second_factor_or_terms_is_done_after_the_password():
    policy = SigninPolicy(requires_second_factor=False, requires_terms=False)
    assert next_step(transaction(user_id=1, password=WHEN), policy) is Step.DONE


def test_denied_consent_ends_the_flow_as_denied():
    txn = transaction(user_id=1, needs_consent=True, **AUTHENTICATED, **{CONSENT_DENIED: WHEN})
    assert next_step(txn) is Step.DONE
    assert is_denied(txn)
    assert not is_denied(transaction(user_id=1, **AUTHENTICATED))


def test_declined_terms_end_the_flow_as_denied():
    txn = transaction(user_id=1, needs_consent=True, password=WHEN, **{EMAIL_CODE: WHEN, TERMS_DECLINED: WHEN})
    assert next_step(txn) is Step.DONE
    assert is_denied(txn)


def test_every_rule_names_a_step_a_person_can_be_sent_to():
    assert [step for step, _rule in RULES] == [
        Step.PASSWORD, Step.SECOND_FACTOR, Step.ENROLMENT, Step.TERMS, Step.CONSENT,
    ]
    assert Step.DONE not in {step for step, _rule in RULES}


def test_a_recovery_code_is_a_second_factor_and_the_set_up_follows():
    txn = transaction(user_id=1, password=WHEN, recovery_code=WHEN)
    assert is_authenticated(txn)
    assert next_step(txn) is Step.ENROLMENT
