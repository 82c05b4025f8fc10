"""Creating, finding, consuming, revoking and resending invitations. No Flask here
(design.md, Where code goes): the API, the CLI and registration call this service and commit.

Decisions (docs/operators.md, Invitations):
- An invitation to an address that already has an account is still created, and its email
  says "you already have an account: sign in" with no secret. Refusing would tell the
  relying party that called the API whether the address is registered (ASVS 2.1 / issue 3,
  "responses do not reveal whether an email is registered").
- One live invitation per address *per creator*: a new invitation from the same creator to
  the same address revokes the creator's earlier pending one. Invitations from different
  creators (two schools) stay independent, so one relying party never sees another's act.
- Document invitations (issue 13) are bound to one account: idp/invitations/binding.py
  states the rules; documents.py checks what they say about the document.
- Resending replaces the secret (only its hash is stored, so the old one cannot be sent
  again; the old link or code stops working) and restarts the validity period from now.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from idp.accounts.errors import InvalidEmail
from idp.accounts.models import User
from idp.accounts.services import canonical_email
from idp.clock import Clock
from idp.config import Settings
from idp.invitations.codes import new_invitation_code, normalise_code
from idp.invitations.documents import check_document, clean_address
from idp.invitations.errors import (
    InvalidInvitation,
    InvitationAlreadyUsed,
    InvitationEmailMismatch,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
)
from idp.invitations.fields import (
    MAX_CLIENT_ID_LENGTH,
    MAX_CREATOR_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PURPOSE_LENGTH,
    optional_text,
    required_text,
)
from idp.invitations.mailing import email_context, email_template
from idp.invitations.models import CreatorKind, Invitation, InvitationKind, InvitationState
from idp.mail.models import OutboxMessage
from idp.mail.services import MailService
from idp.security.secrets import KeyedHasher, equal, new_token

LOCALES = ("fr", "en")
LINK_PURPOSE = "invitation-link"
CODE_PURPOSE = "invitation-code"
# Registration's routes (owned by idp/registration): the email links to these.

MAX_TOKEN_LENGTH = 200  # our tokens are 43 characters; anything far longer is not one
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # secrets.token_urlsafe output


class InvitationService:
    """Invitations to register: one address, one secret (hashed), one use, an expiry."""

    def __init__(self, session: Session, settings: Settings, clock: Clock, hasher: KeyedHasher):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=self.settings.INVITATION_TTL)

    # Creating

    def create(
        self,
        *,
        email: str,
        kind: str,
        given_name: str | None = None,
        family_name: str | None = None,
        locale: str | None = None,
        inviter_name: str,
        purpose: str | None = None,
        created_by_kind: str,
        created_by_id: str,
        client_id: str | None = None,
        document: Any = None,
        return_url: Any = None,
        redirect_uris: Iterable[str] = (),
    ) -> tuple[Invitation, str]:
        """Create a pending invitation; returns it and its plain secret (link token or code).

        Raises InvalidInvitation(field) for a malformed value. The creator's earlier pending
        invitation to the same address is revoked (one live invitation per address and
        creator), except between document invitations. With a document (its details and a
        return_url on one of redirect_uris' origins), the invitation is a link one, bound at
        once to the address's account if it has one: see idp/invitations/binding.py.
        """
        address = clean_address("email", email)
        details, url = check_document(kind, document, return_url, redirect_uris)
        if kind not in tuple(InvitationKind):
            raise InvalidInvitation("kind", "must be link or code")
        if locale is None or (isinstance(locale, str) and not locale.strip()):
            locale = self.settings.BABEL_DEFAULT_LOCALE
        if locale not in LOCALES:
            raise InvalidInvitation("locale", "must be fr or en")
        if created_by_kind not in tuple(CreatorKind):
            raise InvalidInvitation("created_by_kind", "unknown creator kind")
        now = self.clock()
        invitation = Invitation(
            public_id=secrets.token_urlsafe(12),
            email=address,
            kind=kind,
            given_name=optional_text("given_name", given_name, MAX_NAME_LENGTH),
            family_name=optional_text("family_name", family_name, MAX_NAME_LENGTH),
            locale=locale,
            inviter_name=required_text("inviter_name", inviter_name, MAX_NAME_LENGTH),
            purpose=optional_text("purpose", purpose, MAX_PURPOSE_LENGTH),
            created_by_kind=created_by_kind,
            created_by_id=required_text("created_by_id", created_by_id, MAX_CREATOR_ID_LENGTH),
            client_id=optional_text("client_id", client_id, MAX_CLIENT_ID_LENGTH),
            created_at=now,
            expires_at=now + self.ttl,
            send_count=0,
            document=details,
            return_url=url,
            subject_user_id=self._account_of(address) if details is not None else None,
        )
        if details is None:
            self._revoke_pending_from_same_creator(invitation)
        plain_secret = self._set_new_secret(invitation)
        self.session.add(invitation)
        self.session.flush()
        return invitation, plain_secret

    def _account_of(self, address: str) -> int | None:
        """The account that owns the address, unless it is still pending (not yet proven)."""
        return self.session.scalar(select(User.id).where(User.email == address, User.activated_at.is_not(None)))

    def _set_new_secret(self, invitation: Invitation) -> str:
        if invitation.kind == InvitationKind.LINK:
            plain_secret = new_token(32)
            invitation.secret_hash = self.hasher.hash(LINK_PURPOSE, plain_secret)
        else:
            plain_secret = new_invitation_code()
            invitation.secret_hash = self.hasher.hash(CODE_PURPOSE, normalise_code(plain_secret))
        return plain_secret

    def _revoke_pending_from_same_creator(self, invitation: Invitation) -> None:
        now = self.clock()
        self.session.execute(
            update(Invitation)
            .where(
                Invitation.email == invitation.email,
                Invitation.created_by_kind == invitation.created_by_kind,
                Invitation.created_by_id == invitation.created_by_id,
                Invitation.document.is_(None),
                *([Invitation.id != invitation.id] if invitation.id is not None else []),
                *self._state_clause(InvitationState.PENDING, now),
            )
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )

    # Finding (registration)

    def find_by_link_token(self, plain_token: str) -> Invitation:
        """The pending invitation this link token opens.

        Raises InvitationNotFound (unknown or replaced token), InvitationExpired,
        InvitationRevoked or InvitationAlreadyUsed.
        """
        invitation = self.by_link_token(plain_token)
        if invitation is None:
            raise InvitationNotFound
        self._ensure_pending(invitation)
        return invitation

    def by_link_token(self, plain_token: str) -> Invitation | None:
        """The link invitation this token names, in any state; None for anything else."""
        if not isinstance(plain_token, str) or not plain_token or len(plain_token) > MAX_TOKEN_LENGTH:
            return None
        return self.session.scalar(
            select(Invitation).where(
                Invitation.secret_hash == self.hasher.hash(LINK_PURPOSE, plain_token),
                Invitation.kind == InvitationKind.LINK,
            )
        )

    def find_by_code(self, plain_code: str, email: str) -> Invitation:
        """The pending invitation for this code *and* this address (seed 001: the same
        address the code was sent to).

        A wrong code, or a right code with another address, both raise InvitationNotFound,
        so the answer never confirms that a guessed code exists. Once both match, raises
        InvitationExpired, InvitationRevoked or InvitationAlreadyUsed as the case may be.
        """
        normal = normalise_code(plain_code)
        try:
            address = canonical_email(email) if isinstance(email, str) else ""
        except InvalidEmail:
            address = ""
        # Hash even a malformed code, so a bad shape answers no faster than a wrong code.
        secret_hash = self.hasher.hash(CODE_PURPOSE, normal or "")
        invitation = self.session.scalar(
            select(Invitation).where(Invitation.secret_hash == secret_hash, Invitation.kind == InvitationKind.CODE)
        )
        if normal is None or invitation is None or not equal(invitation.email, address):
            raise InvitationNotFound
        self._ensure_pending(invitation)
        return invitation

    @staticmethod
    def ensure_email_matches(invitation: Invitation, email: str) -> None:
        """Raise InvitationEmailMismatch unless email is the invited address (any case).

        For the link form (seed 000, step 2), where the person already holds the link.
        """
        try:
            address = canonical_email(email) if isinstance(email, str) else ""
        except InvalidEmail:
            address = ""
        if not equal(invitation.email, address):
            raise InvitationEmailMismatch

    def _ensure_pending(self, invitation: Invitation) -> None:
        state = invitation.state_at(self.clock())
        if state == InvitationState.ACCEPTED:
            raise InvitationAlreadyUsed
        if state == InvitationState.REVOKED:
            raise InvitationRevoked
        if state == InvitationState.EXPIRED:
            raise InvitationExpired

    # Consuming

    def accept(self, invitation_id: int, user_id: int) -> Invitation:
        """Consume the invitation for the account registration just created.

        One conditional UPDATE (pending and unexpired -> accepted), so of two registrations
        racing with one invitation exactly one succeeds; the other gets InvitationAlreadyUsed.
        Raises InvitationNotFound, InvitationAlreadyUsed, InvitationRevoked, InvitationExpired.
        """
        now = self.clock()
        result = self.session.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation_id,
                # A document invitation bound to an account is accepted by that account only.
                or_(Invitation.subject_user_id.is_(None), Invitation.subject_user_id == user_id),
                *self._state_clause(InvitationState.PENDING, now),
            )
            .values(accepted_at=now, accepted_user_id=user_id,
                    subject_user_id=func.coalesce(Invitation.subject_user_id, user_id))
            .execution_options(synchronize_session=False)
        )
        invitation = self._reload(invitation_id)
        if result.rowcount != 1:
            self._ensure_pending(invitation)
            raise InvitationAlreadyUsed  # pragma: no cover - the state check above raises
        return invitation

    def revoke(self, invitation_id: int) -> Invitation:
        """Revoke a pending or expired invitation; revoking a revoked one changes nothing.

        Raises InvitationNotFound, or InvitationAlreadyUsed once a registration consumed it
        (the account exists; disabling it is another operation).
        """
        now = self.clock()
        self.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation_id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        invitation = self._reload(invitation_id)
        if invitation.accepted_at is not None:
            raise InvitationAlreadyUsed
        return invitation

    def resend(self, invitation_id: int) -> tuple[Invitation, str]:
        """Give a pending or expired invitation a new secret and a new validity period.

        Returns the invitation and its new plain secret, for send(). The previous link or
        code stops working. Raises InvitationNotFound, InvitationAlreadyUsed or
        InvitationRevoked (a revoked invitation stays revoked: create a new one).
        """
        invitation = self._reload(invitation_id)
        state = invitation.state_at(self.clock())
        if state == InvitationState.ACCEPTED:
            raise InvitationAlreadyUsed
        if state == InvitationState.REVOKED:
            raise InvitationRevoked
        plain_secret = self._set_new_secret(invitation)
        invitation.expires_at = self.clock() + self.ttl
        self.session.flush()
        self._revoke_pending_from_same_creator(invitation)
        return invitation, plain_secret

    # Mail

    def send(self, invitation: Invitation, plain_secret: str, mail: MailService) -> OutboxMessage | None:
        """Queue the invitation email (idp/invitations/mailing.py says what it carries).

        Returns the queued message, or None when the mail caps refused it. The caller
        commits, then delivery sends it.
        """
        message = mail.enqueue(
            to=invitation.email,
            template=email_template(invitation),
            locale=invitation.locale,
            context=email_context(self.session, self.settings, invitation, plain_secret),
            user_id=None,
        )
        if message is not None:
            invitation.last_sent_at = self.clock()
            invitation.send_count = (invitation.send_count or 0) + 1
            self.session.flush()
        return message

    # Reading

    def get(self, invitation_id: int) -> Invitation:
        """Raises InvitationNotFound."""
        invitation = self.session.get(Invitation, invitation_id) if isinstance(invitation_id, int) else None
        if invitation is None:
            raise InvitationNotFound
        return invitation

    def get_for_client(self, public_id: str, client_id: str) -> Invitation:
        """The invitation with this public id if this relying party created it; any other
        (another client's, an operator's, none) is InvitationNotFound, never "forbidden"."""
        invitation = None
        # Only the shape we issue reaches the database (PostgreSQL refuses NUL bytes).
        if isinstance(public_id, str) and _PUBLIC_ID.fullmatch(public_id):
            invitation = self.session.scalar(select(Invitation).where(Invitation.public_id == public_id))
        if (
            invitation is None
            or invitation.created_by_kind != CreatorKind.CLIENT
            or invitation.created_by_id != client_id
        ):
            raise InvitationNotFound
        return invitation

    def list(
        self,
        *,
        state: str | None = None,
        email: str | None = None,
        created_by_kind: str | None = None,
        created_by_id: str | None = None,
        limit: int = 100,
    ) -> list[Invitation]:
        """Invitations, newest first, filtered by state, address, creator."""
        query = select(Invitation)
        if state is not None:
            if state not in tuple(InvitationState):
                raise InvalidInvitation("state", "must be pending, accepted, expired or revoked")
            query = query.where(*self._state_clause(InvitationState(state), self.clock()))
        if email is not None:
            try:
                query = query.where(Invitation.email == canonical_email(email))
            except InvalidEmail:
                return []
        if created_by_kind is not None:
            query = query.where(Invitation.created_by_kind == created_by_kind)
        if created_by_id is not None:
            query = query.where(Invitation.created_by_id == created_by_id)
        return list(self.session.scalars(query.order_by(Invitation.id.desc()).limit(limit)))

    @staticmethod
    def _state_clause(state: InvitationState, now) -> list:
        """SQL for state_at(now) == state; kept next to state_at's rules."""
        not_final = [Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)]
        if state == InvitationState.ACCEPTED:
            return [Invitation.accepted_at.is_not(None)]
        if state == InvitationState.REVOKED:
            return [Invitation.accepted_at.is_(None), Invitation.revoked_at.is_not(None)]
        if state == InvitationState.EXPIRED:
            return [*not_final, Invitation.expires_at <= now]
        return [*not_final, Invitation.expires_at > now]

    def _reload(self, invitation_id: int) -> Invitation:
        invitation = self.session.scalar(
            select(Invitation).where(Invitation.id == invitation_id).execution_options(populate_existing=True)
        )
        if invitation is None:
            raise InvitationNotFound
        return invitation
