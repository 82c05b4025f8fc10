"""Document invitations (issue 13) and the person they are bound to: the "new document"
link, binding at registration, and the lookups behind `?subject=`. No Flask here; built
on InvitationService, the caller commits.

The rules. A document invitation is bound to one account: the one the address has when
the invitation is created (an active or disabled account; a pending one has proven
nothing), else whoever registers through its link (accept). Document invitations never
revoke one another (two documents for one learner are two invitations) and are never
accepted by a registration through another route, so whoever registers the address later
cannot capture them. Their state stays pending until the person acts (the link), whether
or not the account existed, so the API's answers never tell. InvitationService applies
them where an invitation is created (the address's account becomes its subject) and
accepted (by its subject only); this module does the rest.
"""

from __future__ import annotations

from sqlalchemy import select

from idp.invitations.errors import InvitationError, InvitationNotFound, InvitationRevoked
from idp.invitations.models import CreatorKind, Invitation, InvitationState
from idp.invitations.services import InvitationService


class Bindings:
    """Which account a document invitation belongs to, and what that account may do with it."""

    def __init__(self, invitations: InvitationService):
        self.invitations = invitations
        self.session = invitations.session
        self.clock = invitations.clock

    def accept_documents_sent_with(self, invitation: Invitation, user_id: int) -> None:
        """After a registration through a document invitation's link: the same client's other
        pending, unbound document invitations to the same address went to the same inbox,
        which the person just proved they read; they are theirs too (a school that issued
        two documents before the learner registered). A registration by any other route
        never calls this (the module docstring)."""
        if invitation.document is None or invitation.client_id is None:
            return
        others = self.session.scalars(
            select(Invitation.id).where(
                Invitation.email == invitation.email,
                Invitation.client_id == invitation.client_id,
                Invitation.created_by_kind == invitation.created_by_kind,
                Invitation.id != invitation.id,
                Invitation.document.is_not(None),
                Invitation.subject_user_id.is_(None),
                *InvitationService._state_clause(InvitationState.PENDING, self.clock()),
            )
        ).all()
        for other_id in others:
            try:
                self.invitations.accept(other_id, user_id)
            except InvitationError:
                continue

    def find_document_link(self, plain_token: str) -> Invitation:
        """The document invitation bound to an account that this "new document" link opens.

        Accepted and expired ones still open: the document is the person's whatever the
        invitation's state (the person comes back to an old email), so the link still leads
        to it, though an expired one is no longer accepted. Raises InvitationNotFound
        (unknown, or not such an invitation) or InvitationRevoked (its client withdrew it).
        """
        invitation = self.invitations.by_link_token(plain_token)
        if invitation is None or invitation.document is None or invitation.return_url is None:
            raise InvitationNotFound
        if invitation.state_at(self.clock()) == InvitationState.REVOKED:
            raise InvitationRevoked
        return invitation

    def open_document(self, invitation: Invitation, user_id: int) -> bool:
        """The bound person followed a "new document" link signed in: the invitation is
        accepted. Returns False (and changes nothing) for anyone else or a finished one."""
        if invitation.subject_user_id != user_id:
            return False
        try:
            self.invitations.accept(invitation.id, user_id)
        except InvitationError:
            return False
        return True

    def bound_user_ids(self, client_id: str) -> list[int]:
        """The accounts this client's document invitations are bound to."""
        return list(self.session.scalars(
            select(Invitation.subject_user_id).where(
                Invitation.client_id == client_id,
                Invitation.created_by_kind == CreatorKind.CLIENT,
                Invitation.subject_user_id.is_not(None),
            ).distinct()
        ))

    def list_bound_to(self, client_id: str, user_id: int, limit: int = 100) -> list[Invitation]:
        """This client's invitations bound to this account, newest first."""
        return list(self.session.scalars(
            select(Invitation).where(
                Invitation.client_id == client_id,
                Invitation.created_by_kind == CreatorKind.CLIENT,
                Invitation.subject_user_id == user_id,
            ).order_by(Invitation.id.desc()).limit(limit)
        ))
