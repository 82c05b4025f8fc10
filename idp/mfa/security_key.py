"""Security keys and passkeys (WebAuthn) as a Factor, and registering them (issue 4).

A key proves possession of a private key bound to Passerelle's origin: phishing-resistant
(NIST SP 800-63B §5.2.5). A hardware key or device-bound passkey gives amr "hwk"; a synced
passkey (backup eligible: its private key lives in a cloud account) gives "swk". Either
way, with the password, the session reaches ACR_MFA_PHISHING_RESISTANT.

Challenges are stored (WebAuthnChallenge) and spent by a conditional UPDATE before the
answer is checked, so each works once, whatever the outcome and however many requests race.
Failed sign-ins with a key count against the account like wrong codes
(idp.accounts.throttle); registering is not a guess at anything, so its failures do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.accounts.throttle import AttemptDecision, SigninThrottle
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.mfa import webauthn
from idp.mfa.attempts import open_attempt
from idp.mfa.base import FactorContext
from idp.mfa.errors import (
    AccountLocked,
    ChallengeNotFound,
    FactorNotAvailable,
    MfaError,
    SecurityKeyAlreadyRegistered,
    SecurityKeyCloned,
    SecurityKeyRejected,
    UnknownSecurityKey,
)
from idp.mfa.models import WebAuthnChallenge, WebAuthnCredential
from idp.security.secrets import KeyedHasher
from idp.signin.flow import FACTOR_AMR, WEBAUTHN

REGISTER = "register"
AUTHENTICATE = "authenticate"
CHALLENGE_TTL = timedelta(minutes=5)
NICKNAME_MAX = 64
USER_HANDLE_PURPOSE = "webauthn-user-handle"


# Where a key that is not backup eligible lives in the phone or computer itself (a
# device-bound passkey: Windows Hello, a phone by QR code) rather than in a USB or NFC key.
PASSKEY_TRANSPORTS = frozenset({"internal", "hybrid"})


@dataclass(frozen=True)
class KeySummary:
    """A key as the account home and the manage page show it (issue 9): its nickname (None
    when the person gave none: the page names it by kind and number), whether it is a
    passkey (synced or kept in a device) rather than a security key, and its place among
    the person's keys, oldest first."""

    id: int
    nickname: str | None
    is_passkey: bool
    number: int

    def as_mail_context(self) -> dict:
        """What an email needs to name the key (mail context is JSON)."""
        return {"nickname": self.nickname, "is_passkey": self.is_passkey, "number": self.number}


def _shown_nickname(stored: str | None) -> str | None:
    nickname = (stored or "").strip()
    return None if nickname in ("", "?") else nickname  # "?": what a blank name was stored as


class WebAuthnService:
    def __init__(self, session: Session, settings: Settings, clock: Clock, hasher: KeyedHasher, throttle: SigninThrottle):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        self.throttle = throttle
        self.rp = webauthn.RelyingParty.from_settings(settings)

    # --- what the person has ------------------------------------------------------------

    def credentials(self, user_id: int) -> list[WebAuthnCredential]:
        return list(self.session.scalars(
            select(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id).order_by(WebAuthnCredential.id)
        ))

    def has_credentials(self, user_id: int) -> bool:
        count = self.session.scalar(select(func.count(WebAuthnCredential.id)).where(WebAuthnCredential.user_id == user_id))
        return bool(count)

    def summaries(self, user_id: int) -> list[KeySummary]:
        """The person's keys as the account pages show them, oldest first."""
        return [
            KeySummary(
                id=credential.id,
                nickname=_shown_nickname(credential.nickname),
                is_passkey=bool(credential.backup_eligible) or bool(PASSKEY_TRANSPORTS & set(credential.transports or ())),
                number=number,
            )
            for number, credential in enumerate(self.credentials(user_id), start=1)
        ]

    def _known(self, user_id: int) -> list[webauthn.KnownCredential]:
        return [
            webauthn.KnownCredential(credential.credential_id, tuple(credential.transports or ()))
            for credential in self.credentials(user_id)
        ]

    # --- challenges -----------------------------------------------------------------------

    def _new_challenge(self, user_id: int, purpose: str, context: FactorContext) -> bytes:
        """A new challenge for this person and ceremony. Their spent and expired ones go at
        the same time, so the table holds only live challenges (a few per person)."""
        now = self.clock()
        self.session.execute(
            delete(WebAuthnChallenge)
            .where(
                WebAuthnChallenge.user_id == user_id,
                or_(WebAuthnChallenge.used_at.is_not(None), WebAuthnChallenge.expires_at <= now),
            )
            .execution_options(synchronize_session=False)
        )
        challenge = webauthn.new_challenge()
        self.session.add(WebAuthnChallenge(
            user_id=user_id, signin_transaction_id=context.transaction_id, purpose=purpose, challenge=challenge,
            created_at=now, expires_at=now + CHALLENGE_TTL,
        ))
        self.session.flush()
        return challenge

    def _spend_challenge(self, user_id: int, purpose: str, response: dict[str, Any], context: FactorContext) -> bytes:
        """Spend the stored challenge the answer was made for, once. Raises ChallengeNotFound
        (expired, already spent, another sign-in's or never issued) or SecurityKeyRejected."""
        try:
            challenge = webauthn.challenge_of(response)
        except webauthn.WebAuthnRejected:
            raise SecurityKeyRejected from None
        now = self.clock()
        spent = self.session.execute(
            update(WebAuthnChallenge)
            .where(
                WebAuthnChallenge.user_id == user_id,
                WebAuthnChallenge.purpose == purpose,
                WebAuthnChallenge.challenge == challenge,
                WebAuthnChallenge.signin_transaction_id.is_(None) if context.transaction_id is None
                else WebAuthnChallenge.signin_transaction_id == context.transaction_id,
                WebAuthnChallenge.used_at.is_(None),
                WebAuthnChallenge.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if spent != 1:
            raise ChallengeNotFound
        return challenge

    # --- registration ---------------------------------------------------------------------

    def begin_registration(self, user: User, context: FactorContext) -> dict[str, Any]:
        """The options for navigator.credentials.create(), with a new stored challenge;
        the person's keys already registered are excluded."""
        challenge = self._new_challenge(user.id, REGISTER, context)
        display_name = " ".join(part for part in (user.given_name, user.family_name) if part) or user.email
        return webauthn.registration_options(
            self.rp, handle=self.user_handle(user.id), user_name=user.email, display_name=display_name,
            challenge=challenge, exclude=self._known(user.id),
        )

    def complete_registration(
        self, user: User, response: Any, nickname: str, context: FactorContext, *, replaces_lost_keys: bool = False,
    ) -> WebAuthnCredential:
        """Check the new key's answer and keep it under nickname. Raises AccountLocked (a
        locked account adds nothing), ChallengeNotFound, SecurityKeyRejected or
        SecurityKeyAlreadyRegistered.

        replaces_lost_keys (the person just used a recovery code: they lost their method)
        removes their other keys, as a new authenticator app replaces a lost one."""
        locked = self.throttle.lock_row(user.id)
        if locked is None or self.throttle.decision(locked) is AttemptDecision.LOCKED:
            raise AccountLocked
        try:
            parsed = webauthn.parse(response)
        except webauthn.WebAuthnRejected:
            raise SecurityKeyRejected from None
        challenge = self._spend_challenge(user.id, REGISTER, parsed, context)
        try:
            new = webauthn.verify_registration(self.rp, parsed, challenge)
        except webauthn.WebAuthnRejected:
            raise SecurityKeyRejected from None
        exists = self.session.scalar(
            select(WebAuthnCredential.id).where(WebAuthnCredential.credential_id == new.credential_id)
        )
        if exists is not None:
            raise SecurityKeyAlreadyRegistered
        if replaces_lost_keys:
            for old in self.credentials(user.id):
                self.session.delete(old)
            self.session.flush()
        credential = WebAuthnCredential(
            user_id=user.id, credential_id=new.credential_id, public_key=new.public_key, sign_count=new.sign_count,
            transports=list(new.transports), nickname=(nickname or "").strip()[:NICKNAME_MAX],
            backup_eligible=new.backup_eligible, backup_state=new.backup_state, aaguid=new.aaguid,
            created_at=self.clock(),
        )
        self.session.add(credential)
        self.session.flush()
        return credential

    # --- authentication ---------------------------------------------------------------------

    def begin_authentication(self, user: User, context: FactorContext) -> dict[str, Any]:
        """The options for navigator.credentials.get(): a new stored challenge for this
        sign-in, and the person's keys. Raises FactorNotAvailable when they have none."""
        known = self._known(user.id)
        if not known:
            raise FactorNotAvailable
        challenge = self._new_challenge(user.id, AUTHENTICATE, context)
        return webauthn.authentication_options(self.rp, challenge=challenge, allow=known)

    def verify(self, user_id: int, response: Any, context: FactorContext) -> WebAuthnCredential:
        """Accept a key's answer for this sign-in, or raise. Returns the key used (the caller
        records whether it was a synced passkey).

        Raises AccountLocked or AttemptTooEarly (the account throttle, checked first),
        SecurityKeyRejected, ChallengeNotFound (replayed or expired), UnknownSecurityKey or
        SecurityKeyCloned; each of those failures counts against the account.
        """
        user = open_attempt(self.throttle, user_id, UnknownSecurityKey)
        try:
            credential = self._check(user, response, context)
        except MfaError as error:
            record_event(
                self.session, self.clock, EventTag.SIGNIN_FAILURE, user_id=user.id,
                ip_address=context.ip_address, user_agent=context.user_agent,
                method=WEBAUTHN, reason=type(error).__name__,
            )
            if self.throttle.record_failure(
                user, locale=context.locale, ip_address=context.ip_address, user_agent=context.user_agent
            ):
                raise AccountLocked from None
            raise
        self.throttle.clear_failures(user)
        self.session.flush()
        return credential

    def _check(self, user: User, response: Any, context: FactorContext) -> WebAuthnCredential:
        try:
            parsed = webauthn.parse(response)
            credential_id = webauthn.credential_id_of(parsed)
        except webauthn.WebAuthnRejected:
            raise SecurityKeyRejected from None
        challenge = self._spend_challenge(user.id, AUTHENTICATE, parsed, context)
        credential = self.session.scalar(
            select(WebAuthnCredential).where(
                WebAuthnCredential.user_id == user.id, WebAuthnCredential.credential_id == credential_id
            )
        )
        if credential is None:
            raise UnknownSecurityKey
        self.session.refresh(credential)  # the counter as committed, under the account lock
        try:
            assertion = webauthn.verify_authentication(
                self.rp, parsed, challenge, public_key=credential.public_key, stored_sign_count=credential.sign_count,
            )
        except webauthn.SignCountRejected:
            raise SecurityKeyCloned from None
        except webauthn.WebAuthnRejected:
            raise SecurityKeyRejected from None
        credential.sign_count = assertion.sign_count
        credential.backup_eligible = assertion.backup_eligible
        credential.backup_state = assertion.backup_state
        credential.last_used_at = self.clock()
        return credential

    def user_handle(self, user_id: int) -> bytes:
        """The WebAuthn user.id of this account: derived with the server's hash key."""
        return bytes.fromhex(self.hasher.hash(USER_HANDLE_PURPOSE, str(user_id)))


class SecurityKeyFactor:
    name: ClassVar[str] = WEBAUTHN
    amr: ClassVar[tuple[str, ...]] = FACTOR_AMR[WEBAUTHN]  # "swk" for a synced passkey: flow.factor_amr
    strength: ClassVar[int] = 3  # the strongest: phishing-resistant
    endpoint: ClassVar[str] = "mfa.security_key"

    def __init__(self, service: WebAuthnService):
        self.service = service

    def is_enrolled(self, user: User) -> bool:
        return self.service.has_credentials(user.id)

    def begin(self, user: User, context: FactorContext) -> Any:
        return self.service.begin_authentication(user, context)

    def verify(self, user: User, response: str, context: FactorContext) -> None:
        self.service.verify(user.id, response, context)
