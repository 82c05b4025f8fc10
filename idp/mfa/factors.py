"""Every second factor Passerelle knows, and building them for a request.

Adding a factor: its module (the Factor protocol, idp/mfa/base.py), one entry in
FACTOR_TYPES and in build_factors(), and its name in SigninPolicy.second_factors.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from idp.accounts.throttle import SigninThrottle
from idp.clock import Clock
from idp.config import Settings
from idp.mfa.authenticator_app import TotpFactor, TotpService
from idp.mfa.base import Factor
from idp.mfa.email_code import EmailCodeFactor
from idp.mfa.recovery import RecoveryCodeFactor, RecoveryCodeService
from idp.mfa.security_key import SecurityKeyFactor, WebAuthnService
from idp.mfa.services import EmailCodeService
from idp.security.encryption import SecretBox
from idp.security.secrets import KeyedHasher

FACTOR_TYPES: tuple[type, ...] = (SecurityKeyFactor, TotpFactor, EmailCodeFactor, RecoveryCodeFactor)


def build_factors(
    session: Session, settings: Settings, clock: Clock, hasher: KeyedHasher, mail: Any, throttle: SigninThrottle,
    secret_box: SecretBox,
) -> list[Factor]:
    return [
        SecurityKeyFactor(WebAuthnService(session, settings, clock, hasher, throttle)),
        TotpFactor(TotpService(session, settings, clock, secret_box, throttle)),
        EmailCodeFactor(EmailCodeService(session, settings, clock, hasher, mail, throttle)),
        RecoveryCodeFactor(RecoveryCodeService(session, settings, clock, hasher, throttle, mail)),
    ]
