"""What an agent may do to a person (issue 16, People): each action names the agent, the
person and the reason the agent typed in one audit event, refuses the agent's own account,
and is safe when two agents act at once (one effect, the other told there is nothing to do).

The console cannot set a password or a second factor: resetting two-factor only removes the
person's methods, and the person sets up new ones themselves at their next sign-in, after
the code emailed to them (idp.signin.flow: no method set up, MFA_REQUIRED).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.accounts.unlock import UnlockService
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.console.errors import (
    NotAllowed,
    NothingToDo,
    OwnAccount,
    ReasonRequired,
    UnknownPerson,
    VerificationRequired,
)
from idp.console.models import AccountRole
from idp.console.people import LOCKED, PENDING, status_of
from idp.console.roles import Agent
from idp.mfa.enrolment import ACCOUNT_PATH
from idp.mfa.models import (
    EmailCode,
    RecoveryCode,
    TotpAuthenticator,
    WebAuthnCredential,
)
from idp.oidc.revocation import end_all_access
from idp.signin.sessions import SessionService

REASON_MAX = 1000
# How the agent verified who they were talking to before resetting two-factor.
VERIFICATIONS = ("video_call_id_document", "in_person_id_document", "callback_known_number", "organization_confirmed")
RESET_TEMPLATE = "two-factor-reset"


def checked_reason(reason: str | None) -> str:
    """The reason without surrounding blanks; raises ReasonRequired when nothing is left."""
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired
    return text[:REASON_MAX]


class PersonActions:
    def __init__(
        self,
        session: Session,
        settings: Settings,
        clock: Clock,
        sessions: SessionService,
        unlock: UnlockService,
        resend_activation: Callable[[User], None],
        mail: Any,
    ):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.sessions = sessions
        self.unlock_service = unlock
        self.resend_activation_to = resend_activation
        self.mail = mail

    def _target(self, agent: Agent, user_id: int, reason: str | None) -> tuple[User, str]:
        user = self.session.get(User, user_id)
        if user is None:
            raise UnknownPerson
        if user.id == agent.user_id:
            raise OwnAccount
        if not agent.is_operator and self.session.scalar(
                select(AccountRole.id).where(AccountRole.user_id == user.id).limit(1)) is not None:
            raise NotAllowed  # the service desk cannot lock out or reset another agent
        return user, checked_reason(reason)

    def _record(self, tag: EventTag, user: User, agent: Agent, reason: str, **details: Any) -> None:
        record_event(self.session, self.clock, tag, user_id=user.id, by="console",
                     agent_id=agent.user_id, reason=reason, **details)

    def resend_activation(self, agent: Agent, user_id: int, reason: str | None) -> None:
        """A pending account gets a new activation link (the previous one stops working).
        Raises NothingToDo when the account is not pending."""
        user, reason = self._target(agent, user_id, reason)
        if status_of(user, self.clock()) != PENDING or not user.email:
            raise NothingToDo
        self.resend_activation_to(user)
        self._record(EventTag.CONSOLE_ACTIVATION_RESENT, user, agent, reason)

    def unlock(self, agent: Agent, user_id: int, reason: str | None) -> None:
        """End a sign-in lock, as `idp users unlock` does. Raises NothingToDo if not locked."""
        user, reason = self._target(agent, user_id, reason)
        if status_of(user, self.clock()) != LOCKED:
            raise NothingToDo
        self.unlock_service.unlock_by_agent(user, agent_id=agent.user_id, reason=reason)

    def end_sessions(self, agent: Agent, user_id: int, reason: str | None) -> int:
        """End every session and every grant (offline_access included); the relying parties
        the sessions signed into get back-channel logout tokens from `idp worker`. Returns
        how many sessions ended (0 is not an error: the grants still end)."""
        user, reason = self._target(agent, user_id, reason)
        ended = end_all_access(self.sessions, user.id)
        self._record(EventTag.SESSIONS_ENDED, user, agent, reason, count=ended, grants_revoked=True)
        return ended

    def disable(self, agent: Agent, user_id: int, reason: str | None) -> int:
        """The account cannot sign in; every session and token ends. Raises NothingToDo when
        it is already disabled (one effect when two agents race: conditional UPDATE)."""
        user, reason = self._target(agent, user_id, reason)
        changed = self.session.execute(
            update(User).where(User.id == user.id, User.disabled_at.is_(None))
            .values(disabled_at=self.clock()).execution_options(synchronize_session=False)
        ).rowcount
        self.session.expire(user, ["disabled_at"])
        if not changed:
            raise NothingToDo
        ended = end_all_access(self.sessions, user.id)
        self._record(EventTag.ACCOUNT_DISABLED, user, agent, reason, sessions_ended=ended)
        return ended

    def enable(self, agent: Agent, user_id: int, reason: str | None) -> None:
        """A disabled account may sign in again (nothing it held comes back)."""
        user, reason = self._target(agent, user_id, reason)
        changed = self.session.execute(
            update(User).where(User.id == user.id, User.disabled_at.is_not(None))
            .values(disabled_at=None).execution_options(synchronize_session=False)
        ).rowcount
        self.session.expire(user, ["disabled_at"])
        if not changed:
            raise NothingToDo
        self._record(EventTag.ACCOUNT_ENABLED, user, agent, reason)

    def reset_two_factor(self, agent: Agent, user_id: int, verification: str | None, reason: str | None) -> list[str]:
        """After the agent verified the person's identity (verification, one of
        VERIFICATIONS, and the reason as a note): remove the authenticator app, every
        security key and passkey, the emailed code as a method, every recovery code and any
        code on its way; end every session and grant; email the person at once in their
        language. Their next sign-in asks for the password and an emailed code, then a new
        set-up. Returns the removed kinds. Raises VerificationRequired, NothingToDo when
        two-factor is not set up (another agent just reset it: one effect)."""
        user, reason = self._target(agent, user_id, reason)
        if verification not in VERIFICATIONS:
            raise VerificationRequired
        removed = self._removed_kinds(user)
        changed = self.session.execute(
            update(User).where(User.id == user.id, User.mfa_enrolled_at.is_not(None))
            .values(mfa_enrolled_at=None, email_code_enrolled_at=None, mfa_default_factor=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        self.session.expire(user, ["mfa_enrolled_at", "email_code_enrolled_at", "mfa_default_factor"])
        if not changed:
            raise NothingToDo
        now = self.clock()
        self.session.execute(delete(TotpAuthenticator).where(TotpAuthenticator.user_id == user.id))
        self.session.execute(delete(WebAuthnCredential).where(WebAuthnCredential.user_id == user.id))
        self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        self.session.execute(
            update(EmailCode).where(EmailCode.user_id == user.id, EmailCode.burned_at.is_(None))
            .values(burned_at=now).execution_options(synchronize_session=False)
        )
        ended = end_all_access(self.sessions, user.id)
        self._record(EventTag.CONSOLE_TWO_FACTOR_RESET, user, agent, reason,
                     verification=verification, removed=removed, sessions_ended=ended)
        if user.email:
            self.mail.enqueue(
                to=user.email, template=RESET_TEMPLATE, locale=user.locale, user_id=user.id,
                context={"given_name": user.given_name, "reset_at": now.isoformat(),
                         "account_url": self.settings.OIDC_ISSUER + ACCOUNT_PATH},
            )
        self.session.flush()
        return removed

    def _removed_kinds(self, user: User) -> list[str]:
        kinds = []
        if self.session.scalar(select(TotpAuthenticator.id).where(TotpAuthenticator.user_id == user.id)) is not None:
            kinds.append("totp")
        if self.session.scalar(select(WebAuthnCredential.id).where(WebAuthnCredential.user_id == user.id)) is not None:
            kinds.append("webauthn")
        if user.email_code_enrolled_at is not None:
            kinds.append("email_code")
        if self.session.scalar(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id)) is not None:
            kinds.append("recovery_codes")
        return kinds
