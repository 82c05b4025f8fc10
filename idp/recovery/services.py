"""\"Can't sign in?\" and password reset links. No Flask here (design.md, Where code goes).

One request answers the same way whatever the address (ASVS 6.3.8, REC-03): a pending
account gets its activation email again, an active one a reset link, an unknown or disabled
one nothing. Only the mailbox learns which. An account sent one of these emails less than
RECOVERY_EMAIL_COOLDOWN ago, whose link still works, gets nothing more, so repeated requests
cannot fill its mail caps; once that link is used, expired or voided, a request sends a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.accounts.services import AccountService, canonical_email
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.mail.services import MailService
from idp.oidc.revocation import end_all_access
from idp.recovery.errors import (
    ResetLinkExpired,
    ResetLinkReplaced,
    ResetLinkUnknown,
    ResetLinkUsed,
)
from idp.recovery.models import PasswordReset
from idp.registration.models import Registration, RegistrationKind
from idp.security.passwords import PasswordHasher
from idp.security.secrets import KeyedHasher, new_token
from idp.signin.sessions import SessionService

RESET_PURPOSE = "password-reset"
# Paths of the recovery pages. The views route them; mail links are built from OIDC_ISSUER,
# never from the request's Host header (password-reset poisoning, REC-04).
HELP_PATH = "/signin/help"
RESET_PATH = "/signin/reset"
ACCOUNT_PATH = "/account"
RESET_EMAIL_TEMPLATE = "password-reset"
# What "can't sign in?" sends; one of either starts the account's cooldown.
HELP_EMAIL_TEMPLATES = (RESET_EMAIL_TEMPLATE, "activation")


class HelpOutcome(StrEnum):
    """What a "can't sign in?" request did. Recorded for operators; never shown to the requester."""

    RESET_LINK = "reset_link"
    ACTIVATION = "activation"
    NOTHING = "nothing"
    # The account was sent a reset or activation email within RECOVERY_EMAIL_COOLDOWN, and its
    # link still works.
    RECENTLY_SENT = "recently_sent"


def queue_password_changed_mail(
    mail: MailService, settings: Settings, user: User, changed_at: datetime, *, locale: str | None, by_reset: bool
) -> None:
    """Tell the person their password changed, with what to do if it was not them (AUD-03,
    ASVS 6.3.7). Shared by the reset and the account's change-password page."""
    issuer = settings.OIDC_ISSUER
    mail.enqueue(
        to=user.email,
        template="password-changed",
        locale=locale or user.locale,
        user_id=user.id,
        context={
            "given_name": user.given_name,
            "changed_at": changed_at.isoformat(),
            "by_reset": by_reset,
            "cant_sign_in_url": issuer + HELP_PATH,
            "account_url": issuer + ACCOUNT_PATH,
        },
    )


def revoke_password_resets(session: Session, clock: Clock, user_id: int) -> int:
    """Void every outstanding reset link of this account: a newer link, a completed reset or
    a changed password leaves no older link working (REC-05). Returns how many."""
    result = session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.user_id == user_id,
            PasswordReset.used_at.is_(None),
            PasswordReset.revoked_at.is_(None),
        )
        .values(revoked_at=clock())
        .execution_options(synchronize_session=False)
    )
    # The UPDATE bypassed the identity map: reload any of these rows already loaded.
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, PasswordReset) and loaded.user_id == user_id:
            session.expire(loaded)
    return result.rowcount


class RecoveryService:
    """Answers "can't sign in?" and spends password reset links."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        clock: Clock,
        hasher: KeyedHasher,
        passwords: PasswordHasher,
        mail: MailService,
        *,
        resend_activation: Callable[[User], None],
        clear_failures: Callable[[User], None] | None = None,
    ):
        """resend_activation is RegistrationService.resend_activation; clear_failures, when
        given, clears the per-account sign-in failure counter and lock after a reset."""
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        self.mail = mail
        self.accounts = AccountService(session, settings, clock, passwords)
        self.sessions = SessionService(session, settings, clock, hasher)
        self.resend_activation = resend_activation
        self.clear_failures = clear_failures

    @property
    def reset_ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.PASSWORD_RESET_TTL)

    @property
    def email_cooldown(self) -> timedelta:
        return timedelta(seconds=int(self.settings.RECOVERY_EMAIL_COOLDOWN))

    def request_help(
        self, email: str, *, locale: str | None, ip_address: str | None = None, user_agent: str | None = None
    ) -> HelpOutcome:
        """Send whatever helps the account at this address, if any; the caller shows one page.

        Raises InvalidEmail for a malformed address (a typing error, the same for everyone).
        Unknown addresses get no mail at all, so nobody can use this form to write to any
        inbox; every path records one event, so each does comparable database work.

        At most one email per account per RECOVERY_EMAIL_COOLDOWN: within it nothing is sent
        and the last link stays the one that works. Otherwise anybody could spend the
        account's shared mail caps (MailService.enqueue) ten requests at a time.
        """
        address = canonical_email(email)
        user = self.accounts.find_by_email(address)
        if user is None or user.disabled_at is not None:
            outcome = HelpOutcome.NOTHING
        elif self.was_recently_sent_help(user):
            outcome = HelpOutcome.RECENTLY_SENT
        elif user.is_pending:
            self.resend_activation(user)
            outcome = HelpOutcome.ACTIVATION
        else:
            plain_token = self.issue_reset(user)
            self.mail.enqueue(
                to=user.email,
                template=RESET_EMAIL_TEMPLATE,
                locale=locale or user.locale,
                user_id=user.id,
                context={
                    "given_name": user.given_name,
                    "reset_url": f"{self.settings.OIDC_ISSUER}{RESET_PATH}/{plain_token}",
                    "cant_sign_in_url": self.settings.OIDC_ISSUER + HELP_PATH,
                    "ttl_minutes": int(self.reset_ttl.total_seconds() // 60),
                },
            )
            outcome = HelpOutcome.RESET_LINK
        record_event(
            self.session,
            self.clock,
            EventTag.RECOVERY_REQUESTED,
            user_id=user.id if user is not None else None,
            ip_address=ip_address,
            user_agent=user_agent,
            outcome=str(outcome),
        )
        self.session.flush()
        return outcome

    def was_recently_sent_help(self, user: User) -> bool:
        """Whether a reset or activation email to this account was queued within the cooldown
        and the link it carries still works (issue 9): a link already used, expired or
        voided is no reason to wait, so the person gets a new one at once.

        Counted from the outbox, so an activation email the registration pages just sent
        counts too, and a message the caps refused (never queued) does not.
        """
        last = self.mail.last_queued_at(user.id, HELP_EMAIL_TEMPLATES)
        if last is None or last <= self.clock() - self.email_cooldown:
            return False
        return self._has_live_activation(user.id) if user.is_pending else self._has_live_reset(user.id)

    def _has_live_reset(self, user_id: int) -> bool:
        return self.session.scalar(
            select(PasswordReset.id).where(
                PasswordReset.user_id == user_id,
                PasswordReset.used_at.is_(None),
                PasswordReset.revoked_at.is_(None),
                PasswordReset.expires_at > self.clock(),
            ).limit(1)
        ) is not None

    def _has_live_activation(self, user_id: int) -> bool:
        """An activation link of this pending account that may still be confirmed (the newest
        one: issuing a link closes the older rows, idp.registration)."""
        return self.session.scalar(
            select(Registration.id).where(
                Registration.user_id == user_id,
                Registration.kind == RegistrationKind.LINK,
                Registration.verified_at.is_(None),
                Registration.closed_at.is_(None),
                Registration.completed_at.is_(None),
                Registration.secret_expires_at > self.clock(),
            ).limit(1)
        ) is not None

    def issue_reset(self, user: User) -> str:
        """A new reset link for this account; returns its plain token (256 bits, only ever in
        the email). Every older unused link stops working (keycloak/keycloak#40631)."""
        now = self.clock()
        self.revoke_resets(user.id)
        plain_token = new_token()
        self.session.add(
            PasswordReset(
                user_id=user.id,
                token_hash=self.hasher.hash(RESET_PURPOSE, plain_token),
                email=user.email,
                created_at=now,
                expires_at=now + self.reset_ttl,
            )
        )
        self.session.flush()
        return plain_token

    def revoke_resets(self, user_id: int) -> int:
        return revoke_password_resets(self.session, self.clock, user_id)

    def find_reset(self, plain_token: str | None) -> tuple[PasswordReset, User]:
        """The usable reset link for this token and its account. Opening a link never spends it
        (mail scanners open links too). Raises a ResetLinkInvalid subclass."""
        if not plain_token or len(plain_token) > 128:
            raise ResetLinkUnknown
        reset = self.session.scalar(
            select(PasswordReset).where(PasswordReset.token_hash == self.hasher.hash(RESET_PURPOSE, plain_token))
        )
        if reset is None:
            raise ResetLinkUnknown
        if reset.used_at is not None:
            raise ResetLinkUsed
        if reset.revoked_at is not None:
            raise ResetLinkReplaced
        if reset.expires_at <= self.clock():
            raise ResetLinkExpired
        user = self.session.get(User, reset.user_id)
        # A disabled account, or one whose address changed since the link was sent, keeps no
        # working link (keycloak/keycloak PR #7985).
        if user is None or user.disabled_at is not None or user.activated_at is None or user.email != reset.email:
            raise ResetLinkUnknown
        return reset, user

    def reset_password(
        self,
        plain_token: str | None,
        plain_password: str,
        *,
        locale: str | None,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> User:
        """Spend the link and give the account this password. Returns the account.

        Raises a ResetLinkInvalid subclass, or WeakPassword before the link is spent (so a
        refused password does not cost the person their link). The link is spent with one
        conditional UPDATE: of two concurrent submissions exactly one wins (REC-06, R2).

        Then every session of the person ends (REC-10) and they sign in again with the new
        password and their second factor: a reset changes the password only and never
        removes, replaces or skips a second factor (ASVS 6.4.3, REC-07).
        """
        reset, user = self.find_reset(plain_token)
        self.accounts.check_new_password(
            plain_password, email=user.email, given_name=user.given_name, family_name=user.family_name
        )
        now = self.clock()
        spent = self.session.execute(
            update(PasswordReset)
            .where(
                PasswordReset.id == reset.id,
                PasswordReset.used_at.is_(None),
                PasswordReset.revoked_at.is_(None),
                PasswordReset.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount != 1:
            raise ResetLinkUsed
        self.accounts.set_password(user, plain_password)
        self.revoke_resets(user.id)
        end_all_access(self.sessions, user.id)  # every session and grant, offline_access too
        if self.clear_failures is not None:
            self.clear_failures(user)
        record_event(
            self.session, self.clock, EventTag.PASSWORD_RESET, user_id=user.id, ip_address=ip_address, user_agent=user_agent
        )
        queue_password_changed_mail(self.mail, self.settings, user, now, locale=locale, by_reset=True)
        self.session.flush()
        return user
