"""Which step of a sign-in comes next, decided from the transaction record alone.

design.md, The sign-in transaction: identify, password or partner, second factor, terms,
consent, done. Each step is a rule: the first rule still pending names the next step. A new
factor or policy is one more Step and one more rule in RULES, not an edit to every view.
Pure: no database, no Flask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from idp.signin.models import SigninTransaction


class Step(StrEnum):
    """A step of the sign-in; its value is also its key in SigninTransaction.steps_done."""

    PASSWORD = "password"  # identify and prove it with a password, on one page
    CONSENT = "consent"
    DONE = "done"


# Outcomes recorded in steps_done that are not steps a person is sent to.
SESSION_REUSED = "session"  # an existing session proved who the person is (no prompt=login)
CONSENT_DENIED = "consent_denied"


@dataclass(frozen=True)
class SigninPolicy:
    """What this deployment requires of a sign-in. Later issues add factors and terms."""

    # Any one of these outcomes proves who the person is.
    proofs_of_identity: frozenset[str] = frozenset({Step.PASSWORD.value, SESSION_REUSED})


DEFAULT_POLICY = SigninPolicy()


def is_authenticated(txn: SigninTransaction, policy: SigninPolicy = DEFAULT_POLICY) -> bool:
    done = txn.steps_done or {}
    return txn.user_id is not None and any(proof in done for proof in policy.proofs_of_identity)


def is_denied(txn: SigninTransaction) -> bool:
    """True when the person refused consent: the client gets access_denied, not a code."""
    return CONSENT_DENIED in (txn.steps_done or {})


def _needs_password(txn: SigninTransaction, policy: SigninPolicy) -> bool:
    return not is_authenticated(txn, policy)


def _needs_consent(txn: SigninTransaction, policy: SigninPolicy) -> bool:
    done = txn.steps_done or {}
    return bool(txn.needs_consent) and Step.CONSENT.value not in done and CONSENT_DENIED not in done


Rule = tuple[Step, Callable[[SigninTransaction, SigninPolicy], bool]]

# In order; the first pending rule wins.
RULES: tuple[Rule, ...] = (
    (Step.PASSWORD, _needs_password),
    (Step.CONSENT, _needs_consent),
)


def next_step(txn: SigninTransaction, policy: SigninPolicy = DEFAULT_POLICY) -> Step:
    """The step this transaction needs next, or Step.DONE when nothing is pending.

    A denied consent ends the flow too: DONE with is_denied(txn) true.
    """
    if is_denied(txn):
        return Step.DONE
    for step, is_pending in RULES:
        if is_pending(txn, policy):
            return step
    return Step.DONE
