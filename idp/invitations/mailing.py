"""What an invitation email carries: a sign-up link, a code and where to type it, or, for
an address that already has an account, a sign-in link and no secret. No Flask here; the
service queues the message (InvitationService.send).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.config import Settings
from idp.invitations.codes import format_code
from idp.invitations.models import Invitation, InvitationKind
from idp.oidc.models import Client
from idp.security.redirects import with_query

REGISTER_LINK_PATH = "/register/invitation/"
# The "new document" email's link (idp/invitations/views.py): sign in, then the return URL.
OPEN_DOCUMENT_PATH = "/invitations/open/"
DOCUMENT_INVITATION_TEMPLATE = "document-invitation"  # a new address: sign up (seed 000)
DOCUMENT_AVAILABLE_TEMPLATE = "document-available"  # an account: a new document, sign in
REGISTER_CODE_PATH = "/register/code"
ACCOUNT_PATH = "/account"


def invitation_link(settings: Settings, plain_token: str) -> str:
    """The absolute sign-up URL a link invitation carries: registration's link route."""
    return settings.OIDC_ISSUER + REGISTER_LINK_PATH + plain_token


def invitation_code_url(settings: Settings) -> str:
    """Where a code invitation says to type the code."""
    return settings.OIDC_ISSUER + REGISTER_CODE_PATH


def email_template(invitation: Invitation) -> str:
    """The one email an invitation sends: a document invitation says "sign up" to a new
    address and "a new document is available" to the account it is bound to."""
    if invitation.document is not None:
        return DOCUMENT_AVAILABLE_TEMPLATE if invitation.subject_user_id is not None else DOCUMENT_INVITATION_TEMPLATE
    return f"invitation-{invitation.kind}"


def document_context(settings: Settings, invitation: Invitation, plain_secret: str) -> dict[str, Any]:
    """What the document emails read, in the invitation's language (seed 000)."""
    document = invitation.document or {}
    locale = invitation.locale
    context: dict[str, Any] = {
        "given_name": invitation.given_name,
        "family_name": invitation.family_name,
        "email": invitation.email,
        "document_type": document["document_type"][locale],
        "feminine": document["document_type"].get("gender") == "feminine",
        "issuer_name": document["issuer_name"][locale],
        "contact_email": document["contact_email"],
        "faq_url": document.get("faq_url"),
        "issuer_info_url": document.get("issuer_info_url"),
        "expires_at": invitation.expires_at.isoformat(),
    }
    if invitation.subject_user_id is not None:
        context["open_url"] = settings.OIDC_ISSUER + OPEN_DOCUMENT_PATH + plain_secret
    else:
        context["signup_url"] = invitation_link(settings, plain_secret)
    return context


def landing_url(session: Session, settings: Settings, invitation: Invitation) -> str | None:
    """Where the person goes once registered or signed in: a document invitation's
    return_url, else the inviting client's third-party login URL (None without one)."""
    if invitation.return_url:
        return invitation.return_url
    return third_party_login_url(session, settings, invitation)


def email_context(session: Session, settings: Settings, invitation: Invitation, plain_secret: str) -> dict[str, Any]:
    """What the invitation templates read; JSON-serialisable (it waits in the outbox,
    encrypted, until sent)."""
    if invitation.document is not None:
        return document_context(settings, invitation, plain_secret)
    # An organization's invitation always carries its code (issue 11): organization accounts
    # are dedicated, so signing in would not help; registering with it explains, to this
    # address only, that the institution needs another one.
    has_account = invitation.organization_id is None and (
        session.scalar(select(User.id).where(User.email == invitation.email)) is not None
    )
    context: dict[str, Any] = {
        "given_name": invitation.given_name,
        "family_name": invitation.family_name,
        "email": invitation.email,
        "inviter_name": invitation.inviter_name,
        "purpose": invitation.purpose,
        "expires_at": invitation.expires_at.isoformat(),
        "has_account": has_account,
    }
    if has_account:
        # The inviting relying party's login page if it has one, else the account home,
        # which asks the person to sign in.
        context["signin_url"] = third_party_login_url(session, settings, invitation) or settings.OIDC_ISSUER + ACCOUNT_PATH
    elif invitation.kind == InvitationKind.LINK:
        context["signup_url"] = invitation_link(settings, plain_secret)
    else:
        context["code"] = format_code(plain_secret)
        context["code_url"] = invitation_code_url(settings)
    return context


def third_party_login_url(session: Session, settings: Settings, invitation: Invitation) -> str | None:
    """Where to send the person once registered: the inviting client's initiate_login_uri
    with `iss` and `login_hint` (OIDC Core §4, third-party-initiated login), so the client
    starts a sign-in for them. None when an operator invited, or the client registered no
    initiate_login_uri.
    """
    if not invitation.client_id:
        return None
    uri = session.scalar(select(Client.initiate_login_uri).where(Client.client_id == invitation.client_id))
    if not uri or urlsplit(uri).scheme not in ("https", "http"):
        return None
    return with_query(uri, iss=settings.OIDC_ISSUER, login_hint=invitation.email)
