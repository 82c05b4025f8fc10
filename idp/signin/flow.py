"""Which step of a sign-in comes next, decided from the transaction record alone.

design.md, The sign-in transaction: identify, password or partner, second factor, terms,
consent, done. Each step is a rule: the first rule still pending names the next step. A new
factor or policy is one more Step and one more rule in RULES (or one more name in
SigninPolicy.second_factors), not an edit to every view. Pure: no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from idp.signin.assurance import (
    ACR_ORDER,
    AMR_EMAIL,
    AMR_FEDERATED,
    AMR_HWK,
    AMR_MFA,
    AMR_OTP,
    AMR_PASSWORD,
    AMR_RECOVERY_CODE,
    AMR_SWK,
    acr_for,
    satisfies,
)
from idp.signin.models import SigninTransaction


class Step(StrEnum):
    """A step of the sign-in. Its value is its key in SigninTransaction.steps_done, except
    SECOND_FACTOR: there the key is the name of the factor that was used (idp/mfa)."""

    PASSWORD = "password"  # identify and prove it with a password, on one page
    SECOND_FACTOR = "second_factor"  # the person's preferred enrolled factor (idp/mfa)
    ENROLMENT = "enrolment"  # set up two-factor: a method and recovery codes (idp/mfa)
    TERMS = "terms"  # accept the terms of use and privacy policy in force (idp/terms)
    CONSENT = "consent"
    DONE = "done"


# Outcomes recorded in steps_done that are not steps a person is sent to.
SESSION_REUSED = "session"  # an existing session proved who the person is (no prompt=login)
CONSENT_DENIED = "consent_denied"
TERMS_DECLINED = "terms_declined"  # no session starts; a waiting client gets access_denied
# The reused session's amr (a list, not a time): with the factors of this transaction, what
# a step-up reaches.
SESSION_AMR = "session_amr"
# The person has no method that reaches the level the client requires (requested_acr): the
# client gets unmet_authentication_requirements.
STEP_UP_UNAVAILABLE = "step_up_unavailable"
# Second factors (idp/mfa); each name is its steps_done key.
EMAIL_CODE = "email_code"
TOTP = "totp"
WEBAUTHN = "webauthn"  # a security key or passkey (idp/mfa/security_key.py)
# Recorded with WEBAUTHN when the key used was a synced passkey (backup eligible): the
# session's amr then says "swk" instead of "hwk" (idp.mfa.security_key.SecurityKeyFactor).
WEBAUTHN_SYNCED = "webauthn_swk"
RECOVERY_CODE = "recovery_code"  # "Recover account": forces a new set-up (ENROLMENT)
# What each second factor proves, as amr values (RFC 8176). The factors' classes (idp/mfa)
# read it from here, so that the sign-in never needs to import them.
FACTOR_AMR: dict[str, tuple[str, ...]] = {
    WEBAUTHN: (AMR_HWK,),
    TOTP: (AMR_OTP,),
    EMAIL_CODE: (AMR_EMAIL,),
    RECOVERY_CODE: (AMR_RECOVERY_CODE,),
}
# A sign-in partner (idp/federation, issue 5) proved who the person is, at the Passerelle
# level recorded under PARTNER_ACR (the partner's acr and amr through the operator's map).
# It stands for the password and, at its level, for the second factor: no emailed code and
# no two-factor set-up follow (MFA_REQUIRED applies to password accounts); a step-up asks
# for a Passerelle factor when the client requires more than the partner's level.
PARTNER = "partner"
PARTNER_ACR = "partner_acr"


@dataclass(frozen=True)
class SigninPolicy:
    """What this deployment requires of a sign-in."""

    # Any one of these outcomes proves who the person is (the first factor).
    proofs_of_identity: frozenset[str] = frozenset({Step.PASSWORD.value, SESSION_REUSED, PARTNER})
    # Completing any one of these factors is the second step.
    second_factors: frozenset[str] = frozenset({EMAIL_CODE, TOTP, WEBAUTHN, RECOVERY_CODE})
    # Issue 3: the emailed code is the second step whenever there is no stronger factor, so
    # for every password sign-in. False only in unit tests of the other rules.
    requires_second_factor: bool = True
    # Issue 4: a person without a two-factor method sets one up (the web layer marks the
    # step done for those who have one). False only in unit tests of the other rules.
    requires_enrolment: bool = True
    requires_terms: bool = True


DEFAULT_POLICY = SigninPolicy()


def is_identified(txn: SigninTransaction, policy: SigninPolicy = DEFAULT_POLICY) -> bool:
    """The first factor is done: the transaction knows who the person is."""
    done = txn.steps_done or {}
    return txn.user_id is not None and any(proof in done for proof in policy.proofs_of_identity)


def second_factor_used(txn: SigninTransaction, policy: SigninPolicy = DEFAULT_POLICY) -> str | None:
    """The name of a second factor this transaction completed, or None."""
    return next(iter(second_factors_used(txn, policy)), None)


def second_factors_used(txn: SigninTransaction, policy: SigninPolicy = DEFAULT_POLICY) -> list[str]:
    """Every second factor this transaction completed (a recovery code, then the app the
    person set up again), by name."""
    done = txn.steps_done or {}
    return [name for name in sorted(policy.second_factors) if name in done]


def is_authenticated(txn: SigninTransaction, policy: SigninPolicy = DEFAULT_POLICY) -> bool:
    """Every authentication step is done: identified, and the second factor passed (a reused
    session passed it when it began). Consent and terms need this (MFA-08, VAL-05)."""
    if not is_identified(txn, policy):
        return False
    done = txn.steps_done or {}
    return (
        not policy.requires_second_factor
        or SESSION_REUSED in done
        or PARTNER in done
        or second_factor_used(txn, policy) is not None
    )


def is_denied(txn: SigninTransaction) -> bool:
    """True when the person refused consent or the terms (the client gets access_denied), or
    cannot reach the level the client requires."""
    done = txn.steps_done or {}
    return CONSENT_DENIED in done or TERMS_DECLINED in done or STEP_UP_UNAVAILABLE in done


def factor_amr(name: str, steps_done: dict | None = None) -> tuple[str, ...]:
    """The amr values a session that used this second factor carries. Given the sign-in's
    steps_done, a security key says whether it was a synced passkey ("swk") rather than a
    device-bound key ("hwk"). Raises KeyError for a name that is no factor."""
    if name == WEBAUTHN and WEBAUTHN_SYNCED in (steps_done or {}):
        return (AMR_SWK,)
    return FACTOR_AMR[name]


def reached_acr(txn: SigninTransaction, policy: SigninPolicy = DEFAULT_POLICY) -> str:
    """The assurance level this transaction reached: its password and factors, on top of
    the reused session's methods when there is one."""
    done = txn.steps_done or {}
    amr: list[str] = list(done.get(SESSION_AMR) or []) if SESSION_REUSED in done else []
    if Step.PASSWORD.value in done:
        amr.append(AMR_PASSWORD)
    amr.extend(partner_amr(txn))
    for name in second_factors_used(txn, policy):
        amr.extend(factor_amr(name))
    return max(acr_for(amr), partner_level(txn) or acr_for(amr), key=ACR_ORDER.index)


def partner_level(txn: SigninTransaction) -> str | None:
    """The level a sign-in partner's sign-in proved in this transaction, or None."""
    done = txn.steps_done or {}
    level = done.get(PARTNER_ACR) if PARTNER in done else None
    return level if level in ACR_ORDER else None


def partner_amr(txn: SigninTransaction) -> list[str]:
    """The amr of a partner's sign-in: "fed" (a federated sign-in), plus "mfa" when its
    level is two-factor. Never the partner's own amr values: the relying party learns the
    level, nothing else the partner said (issue 5)."""
    level = partner_level(txn)
    if level is None:
        return []
    return [AMR_FEDERATED, AMR_MFA] if ACR_ORDER.index(level) >= 2 else [AMR_FEDERATED]


def is_step_up_pending(txn: SigninTransaction, policy: SigninPolicy = DEFAULT_POLICY) -> bool:
    """The client requires a level (requested_acr) this transaction has not reached yet:
    the person is asked for a stronger factor (step-up) rather than refused."""
    required = txn.requested_acr
    done = txn.steps_done or {}
    if required not in ACR_ORDER or STEP_UP_UNAVAILABLE in done:
        return False
    return not satisfies(reached_acr(txn, policy), required)


def _needs_password(txn: SigninTransaction, policy: SigninPolicy) -> bool:
    return not is_identified(txn, policy)


def _needs_second_factor(txn: SigninTransaction, policy: SigninPolicy) -> bool:
    """Until a second factor is done; then again while a level the client requires is not
    reached, once the person has a method that may reach it (after the set-up step, or on
    a reused session)."""
    if not is_authenticated(txn, policy):
        return True
    done = txn.steps_done or {}
    is_past_setup = Step.ENROLMENT.value in done or SESSION_REUSED in done or not policy.requires_enrolment
    return policy.requires_second_factor and is_past_setup and is_step_up_pending(txn, policy)


def _needs_enrolment(txn: SigninTransaction, policy: SigninPolicy) -> bool:
    """Asked after the second step (or a reused session); the web layer marks it done at
    once when the person already set up two-factor or MFA_REQUIRED is off, except after a
    recovery code, which always leads to a new set-up (idp.signin.current)."""
    done = txn.steps_done or {}
    # Not skipped for a reused session: one that began without a method (registration's,
    # before the set-up existed) must not lead to a client without one.
    return policy.requires_second_factor and policy.requires_enrolment and Step.ENROLMENT.value not in done


def _needs_terms(txn: SigninTransaction, policy: SigninPolicy) -> bool:
    """Asked after a fresh authentication; the web layer marks the step done at once when the
    person already accepted the version in force (idp.signin.current)."""
    done = txn.steps_done or {}
    return policy.requires_terms and Step.TERMS.value not in done and SESSION_REUSED not in done


def _needs_consent(txn: SigninTransaction, policy: SigninPolicy) -> bool:
    done = txn.steps_done or {}
    return bool(txn.needs_consent) and Step.CONSENT.value not in done and CONSENT_DENIED not in done


Rule = tuple[Step, Callable[[SigninTransaction, SigninPolicy], bool]]

# In order; the first pending rule wins.
RULES: tuple[Rule, ...] = (
    (Step.PASSWORD, _needs_password),
    (Step.SECOND_FACTOR, _needs_second_factor),
    (Step.ENROLMENT, _needs_enrolment),
    (Step.TERMS, _needs_terms),
    (Step.CONSENT, _needs_consent),
)


def next_step(txn: SigninTransaction, policy: SigninPolicy = DEFAULT_POLICY) -> Step:
    """The step this transaction needs next, or Step.DONE when nothing is pending.

    A denied consent or declined terms end the flow too: DONE with is_denied(txn) true.
    """
    if is_denied(txn):
        return Step.DONE
    for step, is_pending in RULES:
        if is_pending(txn, policy):
            return step
    return Step.DONE
