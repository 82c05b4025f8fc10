"""The gate every second-factor check goes through first (issue 4, Abuse resistance).

Wrong codes and keys count against the account like wrong passwords
(idp.accounts.throttle). Locking the account row first serialises concurrent attempts at
one account, so two requests cannot both spend one code or time step.
"""

from __future__ import annotations

from idp.accounts.models import User
from idp.accounts.throttle import AttemptDecision, SigninThrottle
from idp.mfa.errors import AccountLocked, AttemptTooEarly, MfaError


def open_attempt(throttle: SigninThrottle, user_id: int, missing: type[MfaError]) -> User:
    """Lock the account row and ask the throttle whether an attempt may be checked now.
    Returns the locked row. Raises `missing` when there is no such account, AccountLocked or
    AttemptTooEarly, without looking at what the person typed."""
    user = throttle.lock_row(user_id)
    if user is None:
        raise missing
    decision = throttle.decision(user)
    if decision is AttemptDecision.LOCKED:
        raise AccountLocked
    if decision is AttemptDecision.TOO_EARLY:
        raise AttemptTooEarly
    return user
