"""Sign-in transactions (sessions: idp.signin.sessions). No Flask here (design.md, Where code goes).

The browser only ever holds random handles; the database keeps their keyed hashes
(design.md, Data at rest), so a database dump cannot be replayed as a cookie.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.accounts.throttle import AttemptDecision, SigninThrottle
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.oidc.models import Client, Consent
from idp.ops import metrics
from idp.security.passwords import PasswordHasher
from idp.security.secrets import KeyedHasher
from idp.signin.errors import InvalidCredentials, StepNotAllowed
from idp.signin.flow import (
    CONSENT_DENIED,
    DEFAULT_POLICY,
    PARTNER,
    SESSION_AMR,
    SESSION_REUSED,
    Step,
    is_authenticated,
)
from idp.signin.models import SigninTransaction

SIGNIN_PURPOSE = "signin"
# The steps that prove something about the person: completing one gets the browser a new
# sign-in handle (rotate_handle). A reused session is not one: it was proved before the
# handle existed.
HANDLE_ROTATING_STEPS = frozenset(
    {Step.PASSWORD.value, PARTNER, Step.ENROLMENT.value} | DEFAULT_POLICY.second_factors
)


def new_handle() -> str:
    """256 random bits for a cookie value (ASVS 7.2.3: at least 128)."""
    return secrets.token_urlsafe(32)


def merge_scopes(granted: str, requested: str) -> str:
    """The union of two space-separated scope lists, in first-seen order."""
    merged: dict[str, None] = {}
    for scope in (granted + " " + requested).split():
        merged.setdefault(scope, None)
    return " ".join(merged)


class SigninService:
    """One sign-in from its start to its single completion (design.md, The sign-in transaction)."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        clock: Clock,
        hasher: KeyedHasher,
        passwords: PasswordHasher,
        throttle: SigninThrottle | None = None,
        commit: Callable[[], None] | None = None,
    ):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        self.passwords = passwords
        # Views pass one with a mail service, so a lock is told by email.
        self.throttle = throttle or SigninThrottle(session, settings, clock)
        # The caller's commit (views pass db.session.commit): verify_password ends the
        # transaction before the argon2id hash, so no lock is held through it. Without one
        # the whole attempt is one transaction, as a unit test wants.
        self.commit = commit or session.flush

    def begin(
        self,
        *,
        authorization_request: Mapping[str, str] | None = None,
        client_id: str | None = None,
        return_to: str | None = None,
        prompt: str | None = None,
        max_age: int | None = None,
        login_hint: str | None = None,
        requested_acr: str | None = None,
        ui_locale: str | None = None,
        authenticated_user_id: int | None = None,
        session_amr: Sequence[str] = (),
        needs_consent: bool = False,
    ) -> tuple[SigninTransaction, str]:
        """Record a new sign-in; returns it with the plain handle for the browser's cookie.

        authenticated_user_id is the user of a session that may be reused (no prompt=login,
        max_age satisfied: the OIDC layer's decision); authentication then counts as done,
        at that session's methods (session_amr), which a step-up adds to.
        requested_acr is the level the client requires (idp.signin.assurance), or None.
        """
        now = self.clock()
        plain_handle = new_handle()
        steps_done: dict[str, Any] = {}
        if authenticated_user_id is not None:
            steps_done[SESSION_REUSED] = now.isoformat()
            steps_done[SESSION_AMR] = list(session_amr)
        txn = SigninTransaction(
            handle_hash=self.hasher.hash(SIGNIN_PURPOSE, plain_handle),
            authorization_request=dict(authorization_request) if authorization_request is not None else None,
            client_id=client_id,
            return_to=return_to,
            prompt=prompt,
            max_age=max_age,
            login_hint=(login_hint or "")[:320] or None,
            requested_acr=requested_acr,
            ui_locale=ui_locale,
            needs_consent=needs_consent,
            user_id=authenticated_user_id,
            steps_done=steps_done,
            handle_steps=[],
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.SIGNIN_TRANSACTION_TTL),
        )
        self.session.add(txn)
        self.session.flush()
        return txn, plain_handle

    def find(self, plain_handle: str | None) -> SigninTransaction | None:
        """The unexpired, not yet completed transaction for this handle, or None."""
        if not plain_handle:
            return None
        txn = self.session.scalar(
            select(SigninTransaction).where(
                SigninTransaction.handle_hash == self.hasher.hash(SIGNIN_PURPOSE, plain_handle)
            )
        )
        if txn is None or txn.completed_at is not None or txn.expires_at <= self.clock():
            return None
        return txn

    def rotate_handle(self, txn: SigninTransaction) -> str | None:
        """Give the transaction a new handle if a factor was completed since its handle was
        issued; returns the new plain handle for the cookie, or None when nothing changed.

        The old handle stops naming the transaction at once, so a handle planted in the
        browser (or read off it) before the password or a second factor cannot carry on, or
        collect the code of, the sign-in that the person then completes (session fixation,
        ASVS 3.2.1, OWASP Session Management: renew the identifier at each privilege change).
        """
        done = sorted(name for name in HANDLE_ROTATING_STEPS if name in (txn.steps_done or {}))
        if done == sorted(txn.handle_steps or []):
            return None
        plain_handle = new_handle()
        txn.handle_hash = self.hasher.hash(SIGNIN_PURPOSE, plain_handle)
        txn.handle_steps = done
        self.session.flush()
        return plain_handle

    def is_completed(self, plain_handle: str | None) -> bool:
        """Whether this handle names a transaction that finished (resumed, or ended locally):
        a browser holding it has nothing to resume and may simply begin again."""
        if not plain_handle:
            return False
        completed_at = self.session.scalar(
            select(SigninTransaction.completed_at).where(
                SigninTransaction.handle_hash == self.hasher.hash(SIGNIN_PURPOSE, plain_handle)
            )
        )
        return completed_at is not None

    def verify_password(
        self,
        txn: SigninTransaction,
        email: str,
        plain_password: str,
        *,
        locale: str | None = None,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> User:
        """Identify the person and check their password; records the password step.

        Raises InvalidCredentials for an unknown address, a wrong password, a disabled or
        pending account, an attempt within the progressive delay and a locked account alike,
        after the same argon2 work in every case (ENUM-01): a refused attempt is verified
        against the dummy hash, never against the real one, so a right password during a
        lock signs nobody in and costs the same time. Failures are counted per account
        (idp.accounts.throttle) and recorded as security events; the caller commits them.

        The hash runs between two short transactions, never under the account row's lock
        (on SQLite, the database's write lock; issue 10): the attempt is decided and counted
        as a check under way, committed with whatever the session held (self.commit), then
        settled after the hash (SigninThrottle.begin_check, settle_check).
        """
        user = AccountService(self.session, self.settings, self.clock, self.passwords).find_by_email(email)
        decision = None
        if user is not None:
            user = self.throttle.lock_row(user.id)
            decision = self.throttle.decision(user) if user is not None else None
        may_check = user is not None and decision is AttemptDecision.ALLOWED
        password_hash = user.password_hash if may_check else None
        if may_check:
            self.throttle.begin_check(user)
        user_id = user.id if user is not None else None
        self.commit()
        # verify() runs a dummy verification when there is no hash, so timing is the same.
        is_valid = self.passwords.verify(password_hash, plain_password)
        new_hash = None
        if is_valid and self.passwords.needs_rehash(password_hash):
            new_hash = self.passwords.hash(plain_password)  # before the row is locked again
        is_replaced = False
        if may_check:
            user = self.throttle.settle_check(user_id)
            if user is None:
                user_id = None
            # Changed (or rehashed) while this check ran: it was made against the old one.
            is_replaced = user is not None and user.password_hash != password_hash
        if user_id is None or not may_check or not is_valid or is_replaced or not user.is_active:
            origin = {"ip_address": ip_address, "user_agent": user_agent}
            if user_id is None:
                reason = "unknown_account"
            elif not may_check:
                reason = str(decision)
            elif not is_valid:
                reason = "wrong_password"
                self.throttle.record_failure(user, locale=locale, **origin)
            elif is_replaced:
                reason = "password_replaced"  # not counted: the person simply tries again
            else:
                reason = "inactive_account"
            record_event(
                self.session, self.clock, EventTag.SIGNIN_FAILURE,
                user_id=user_id, step=Step.PASSWORD.value, reason=reason, **origin,
            )
            raise InvalidCredentials
        if new_hash is not None:
            user.password_hash = new_hash
        txn.user_id = user.id
        # A fresh password proves identity on its own: a reused session no longer counts.
        self.record_step(txn, Step.PASSWORD.value, replacing=(SESSION_REUSED,))
        return user

    def record_step(self, txn: SigninTransaction, name: str, *, replacing: tuple[str, ...] = ()) -> None:
        """Mark a step done now. steps_done is reassigned so the JSON column is saved."""
        steps_done = {key: value for key, value in (txn.steps_done or {}).items() if key not in replacing}
        steps_done[name] = self.clock().isoformat()
        txn.steps_done = steps_done
        self.session.flush()
        metrics.count_step(name)

    def forget_identity(self, txn: SigninTransaction) -> None:
        """Undo a reused session's proof of identity (it ended before the flow did)."""
        txn.steps_done = {key: value for key, value in (txn.steps_done or {}).items() if key != SESSION_REUSED}
        txn.user_id = None
        self.session.flush()

    def decide_consent(self, txn: SigninTransaction, *, is_allowed: bool) -> None:
        """Record the person's answer on the consent page; an allowed consent is remembered.

        Raises StepNotAllowed when nobody is authenticated yet or no client asks (VAL-05).
        """
        if not is_authenticated(txn) or not txn.client_id:
            raise StepNotAllowed
        if is_allowed:
            scope = (txn.authorization_request or {}).get("scope", "")
            self.record_consent(txn.user_id, txn.client_id, scope)
            self.record_step(txn, Step.CONSENT.value)
        else:
            self.record_step(txn, CONSENT_DENIED)

    def record_consent(self, user_id: int, client_id: str, scope: str) -> Consent:
        """Remember that this person allowed this client these scopes (added to earlier ones)."""
        consent = self.session.scalar(
            select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_id)
        )
        if consent is None:
            consent = Consent(user_id=user_id, client_id=client_id, scope="")
            self.session.add(consent)
        consent.scope = merge_scopes(consent.scope, scope)
        consent.granted_at = self.clock()
        self.session.flush()
        return consent

    def find_client(self, client_id: str | None) -> Client | None:
        """The client a consent page names, or None if it was deleted meanwhile."""
        if not client_id:
            return None
        return self.session.scalar(select(Client).where(Client.client_id == client_id))

    def has_remembered_consent(self, user_id: int, client_id: str, scope: str) -> bool:
        """True when an earlier consent covers every requested scope."""
        consent = self.session.scalar(
            select(Consent).where(Consent.user_id == user_id, Consent.client_id == client_id)
        )
        return consent is not None and set(scope.split()) <= set(consent.scope.split())

    def complete(self, txn: SigninTransaction) -> bool:
        """Mark the transaction used, once: a conditional UPDATE, so two concurrent resumes
        of the same sign-in get exactly one True."""
        now = self.clock()
        result = self.session.execute(
            update(SigninTransaction)
            .where(SigninTransaction.id == txn.id, SigninTransaction.completed_at.is_(None))
            .values(completed_at=now)
            .execution_options(synchronize_session=False)
        )
        # The UPDATE bypassed the identity map: reload the column on next access.
        self.session.expire(txn, ["completed_at"])
        return result.rowcount == 1
