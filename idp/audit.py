"""Security events: what happened to an account, for its owner and for operators.

The account home lists a person's recent events (sign-ins, password changes); operators
read the table. Details never hold a secret (ASVS 16.2.5).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from idp.clock import Clock
from idp.db import Base, UTCDateTime, utcnow
from idp.ops import metrics
from idp.ops.logs import REQUEST_ID


class EventTag(StrEnum):
    """What happened, as `area:object:action`; the account home translates each one."""

    SIGNIN_SUCCESS = "account:signin:success"
    SIGNIN_FAILURE = "account:signin:failure"
    ACCOUNT_LOCKED = "account:signin:locked"
    # A lock that only the emailed unlock link or an operator ends (issue 9), and its end.
    ACCOUNT_UNLOCK_REQUIRED = "account:signin:unlock_required"
    ACCOUNT_UNLOCKED = "account:signin:unlocked"
    ACCOUNT_DISABLED = "account:status:disabled"  # by an operator: every session and token ended
    ACCOUNT_ENABLED = "account:status:enabled"
    ACCOUNT_REGISTERED = "account:registration:completed"
    ACCOUNT_ACTIVATED = "account:registration:activated"
    PASSWORD_CHANGED = "account:password:changed"
    PASSWORD_RESET = "account:password:reset"
    PASSWORD_CHANGE_FAILURE = "account:password:change_failure"  # wrong current password
    RECOVERY_REQUESTED = "account:recovery:requested"  # "can't sign in?"; user_id None if unknown
    SESSIONS_ENDED = "account:sessions:ended"
    # « Se déconnecter partout » (issue 14): every session, this one too, and every grant.
    SIGNED_OUT_EVERYWHERE = "account:sessions:signed_out_everywhere"
    TERMS_ACCEPTED = "account:terms:accepted"
    EMAIL_CODE_SENT = "account:email_code:sent"
    EMAIL_CODE_FAILURE = "account:email_code:failure"
    MFA_ENROLLED = "account:mfa:enrolled"  # two-factor set up, recovery codes issued
    MFA_METHOD_ADDED = "account:mfa:method_added"
    MFA_METHOD_REMOVED = "account:mfa:method_removed"
    MFA_DEFAULT_CHANGED = "account:mfa:default_changed"
    RECOVERY_CODES_REGENERATED = "account:recovery_codes:regenerated"
    # "Recover account" (issue 9): the methods the person lost stopped working, other sessions ended.
    MFA_LOST_METHODS_REMOVED = "account:mfa:lost_methods_removed"
    PARTNER_LINKED = "account:partner:linked"
    PARTNER_UNLINKED = "account:partner:unlinked"
    TOTP_FAILURE = "account:totp:failure"
    RECOVERY_CODE_USED = "account:recovery_code:used"
    RECOVERY_CODE_FAILURE = "account:recovery_code:failure"
    MAIL_CAPPED = "mail:capped"
    # Organizations (issue 11, idp/orgs): user_id is the person concerned, if any.
    ORGANIZATION_CREATED = "organization:created"
    ORGANIZATION_DISABLED = "organization:disabled"
    ORGANIZATION_ENABLED = "organization:enabled"
    ORGANIZATION_MEMBER_INVITED = "organization:member:invited"
    # The primary user withdrew a pending invitation (resending is another member:invited).
    ORGANIZATION_INVITATION_WITHDRAWN = "organization:invitation:withdrawn"
    ORGANIZATION_MEMBER_JOINED = "organization:member:joined"
    ORGANIZATION_MEMBER_ROLE_CHANGED = "organization:member:role_changed"
    ORGANIZATION_MEMBER_ENDED = "organization:member:ended"
    ORGANIZATION_REQUEST_SUBMITTED = "organization:request:submitted"
    ORGANIZATION_REQUEST_APPROVED = "organization:request:approved"
    ORGANIZATION_REQUEST_REJECTED = "organization:request:rejected"
    # An operator let a relying party's organizations API reach the organization, or stopped it.
    ORGANIZATION_CLIENT_ATTACHED = "organization:client:attached"
    ORGANIZATION_CLIENT_DETACHED = "organization:client:detached"
    # Invitations by relying parties (issue 13, idp/invitations/api.py): created and revoked
    # carry no user_id (they must not tell whether the address had an account); accepted is
    # the bound person opening a "new document" link signed in.
    INVITATION_CREATED = "invitation:created"
    INVITATION_REVOKED = "invitation:revoked"
    INVITATION_ACCEPTED = "invitation:accepted"
    # The operators' console (issue 16, idp/console): user_id is the person concerned;
    # details name the agent (agent_id) and the reason they typed.
    CONSOLE_ROLE_GRANTED = "console:role:granted"  # `idp users grant`, never the console
    CONSOLE_ROLE_REVOKED = "console:role:revoked"
    CONSOLE_SIGNED_IN = "console:session:started"  # user_id is the agent
    CONSOLE_PERSON_SEARCHED = "console:person:searched"  # user_id is the agent
    CONSOLE_PERSON_VIEWED = "console:person:viewed"
    CONSOLE_ACTIVATION_RESENT = "console:person:activation_resent"
    CONSOLE_TWO_FACTOR_RESET = "console:person:two_factor_reset"
    CONSOLE_ACCESS_REFUSED = "console:access:refused"  # user_id is the agent
    # An operator decided an organization's change request from the console (user_id: the
    # requester); organization:request:approved|rejected is recorded too.
    CONSOLE_REQUEST_DECIDED = "console:organization:request_decided"
    # An operator disabled or enabled an organization from the console (no user_id; with
    # organization:disabled|enabled).
    CONSOLE_ORGANIZATION_CHANGED = "console:organization:state_changed"
    # Relying parties and initial access tokens from the console (no user_id; details: agent_id,
    # client_id, the client's name, the reason; never a secret or a token).
    CONSOLE_CLIENT_CREATED = "console:client:created"
    CONSOLE_CLIENT_UPDATED = "console:client:updated"  # with the names of the fields changed
    CONSOLE_CLIENT_SECRET_ROTATED = "console:client:secret_rotated"  # with the overlap
    CONSOLE_CLIENT_DISABLED = "console:client:disabled"
    CONSOLE_CLIENT_ENABLED = "console:client:enabled"
    CONSOLE_CLIENT_DELETED = "console:client:deleted"
    CONSOLE_INITIAL_TOKEN_ISSUED = "console:initial_token:issued"  # with its id and expiry
    CONSOLE_INITIAL_TOKEN_REVOKED = "console:initial_token:revoked"
    # Operators' keys, mail and audit pages (user_id is the agent; details say what, and the
    # reason for a change): signing keys rotated, an outbox message sent again or given up,
    # the audit log viewed or exported (with the filters, people as ids).
    CONSOLE_KEYS_ROTATED = "console:keys:rotated"
    CONSOLE_MAIL_RETRIED = "console:mail:retried"
    CONSOLE_MAIL_DISCARDED = "console:mail:discarded"
    CONSOLE_AUDIT_VIEWED = "console:audit:viewed"
    CONSOLE_AUDIT_EXPORTED = "console:audit:exported"


class SecurityEvent(Base):
    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record_event(
    session: Session,
    clock: Clock,
    tag: EventTag,
    *,
    user_id: int | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
    **details: Any,
) -> SecurityEvent:
    """Add one event to the caller's transaction; it is saved when the caller commits.

    Also the one place security events are counted for Prometheus (idp/ops/metrics.py), and
    the details get the id of the request being served, if any (issue 15)."""
    request_id = REQUEST_ID.get()
    if request_id is not None:
        details.setdefault("request_id", request_id)
    metrics.count_event(str(tag), details)
    event = SecurityEvent(
        user_id=user_id,
        tag=str(tag),
        created_at=clock(),
        ip_address=(ip_address or "")[:45] or None,
        user_agent=(user_agent or "")[:512] or None,
        details=details,
    )
    session.add(event)
    return event


def recent_events(session: Session, user_id: int, limit: int = 20) -> list[SecurityEvent]:
    """A person's latest events, newest first."""
    return list(
        session.scalars(
            select(SecurityEvent)
            .where(SecurityEvent.user_id == user_id)
            .order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc())
            .limit(limit)
        )
    )
