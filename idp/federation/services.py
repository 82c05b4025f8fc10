"""The broker: sending people to a sign-in partner and taking them back (issue 5).

No Flask here (design.md, Where code goes). The views hand in ids, the callback's
parameters and Passerelle's redirect URI, and commit. Two promises hold here:

- the partner does not learn which service the person is using: the request to it carries
  Passerelle's one client id and one redirect URI, an opaque random state, a nonce and a
  PKCE challenge, and nothing else;
- the service learns nothing the partner knows: a person is linked by the pair (partner
  issuer, partner subject) and only that pair is stored. No claim of the ID token other than
  iss, sub, acr and amr is read, and acr and amr only become a Passerelle level.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from datetime import timedelta

import requests
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from idp.accounts.models import User
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.federation.errors import (
    InvalidPartnerResponse,
    IssuerMismatch,
    LastWayToSignIn,
    LinkNotFound,
    PartnerAlreadyLinked,
    PartnerNotFound,
    PartnerRefused,
    RequestNotFound,
)
from idp.federation.models import PartnerLink, PartnerRequest
from idp.federation.partners import Partner
from idp.federation.upstream import (
    PartnerClient,
    PartnerMetadataCache,
    new_code_verifier,
)
from idp.security.secrets import KeyedHasher

STATE_PURPOSE = "partner-state"


@dataclass(frozen=True)
class PartnerIdentity:
    """Who the partner says the person is, and the Passerelle level its sign-in proves."""

    partner_id: str
    issuer: str
    subject: str
    acr: str
    signin_transaction_id: int | None
    session_id: int | None


class BrokerService:
    def __init__(
        self,
        session: Session,
        settings: Settings,
        clock: Clock,
        hasher: KeyedHasher,
        partners: Mapping[str, Partner],
        cache: PartnerMetadataCache,
        http: requests.Session | None = None,
        mail: Any = None,
    ):
        """mail, when given, tells the person when a partner is linked to or unlinked from
        their account (AUD-03)."""
        self.mail = mail
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        self.partners = partners
        self.cache = cache
        self.http = http

    # --- The partners ----------------------------------------------------------------

    def enabled_partners(self) -> list[Partner]:
        return [partner for partner in self.partners.values() if partner.enabled]

    def get(self, partner_id: str) -> Partner:
        """An enabled partner. Raises PartnerNotFound."""
        partner = self.partners.get(partner_id)
        if partner is None or not partner.enabled:
            raise PartnerNotFound
        return partner

    def client(self, partner: Partner) -> PartnerClient:
        return PartnerClient(partner, self.cache, self.settings.PARTNER_HTTP_TIMEOUT, self.http)

    # --- The round trip ----------------------------------------------------------------

    def begin(
        self,
        partner_id: str,
        *,
        redirect_uri: str,
        signin_transaction_id: int | None = None,
        session_id: int | None = None,
        ui_locale: str | None = None,
    ) -> str:
        """Record a round trip to the partner for this sign-in (or this session's linking)
        and return the URL to send the browser to. ui_locale, the language of the page the
        person chose the partner on, carries on at the partner (it names no service).

        Raises PartnerNotFound, PartnerUnavailable (its discovery cannot be fetched) or
        InvalidPartnerResponse (its discovery is wrong).
        """
        partner = self.get(partner_id)
        client = self.client(partner)
        plain_state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), new_code_verifier()
        url = client.authorization_url(
            redirect_uri=redirect_uri, state=plain_state, nonce=nonce, code_verifier=verifier, ui_locale=ui_locale
        )
        now = self.clock()
        # Spent and expired round trips prove nothing more (a replay finds no row either way).
        self.purge_spent()
        self.session.add(PartnerRequest(
            state_hash=self.hasher.hash(STATE_PURPOSE, plain_state), partner_id=partner.id, issuer=partner.issuer,
            nonce=nonce, code_verifier=verifier, signin_transaction_id=signin_transaction_id, session_id=session_id,
            created_at=now, expires_at=now + timedelta(seconds=self.settings.PARTNER_STATE_TTL),
        ))
        self.session.flush()
        return url

    def finish(
        self,
        plain_state: str | None,
        *,
        redirect_uri: str,
        signin_transaction_id: int | None,
        session_id: int | None,
        code: str | None,
        error: str | None,
        iss: str | None,
    ) -> PartnerIdentity:
        """Take the partner's answer for the round trip named by state: spend it (single
        use), then check iss (RFC 9207), exchange the code and check the ID token.

        The round trip must belong to this browser: its sign-in transaction, or for a
        linking its session. Raises RequestNotFound, PartnerRefused, IssuerMismatch,
        PartnerUnavailable, InvalidPartnerResponse or PartnerNotFound (disabled meanwhile).
        """
        pending = self._spend(plain_state, signin_transaction_id, session_id)
        partner = self.get(pending.partner_id)
        if partner.issuer != pending.issuer:
            raise PartnerNotFound
        client = self.client(partner)
        if iss is not None and iss != partner.issuer:
            raise IssuerMismatch
        if error is not None:
            raise PartnerRefused(error[:64])
        if iss is None and client.requires_iss_parameter():
            raise IssuerMismatch
        if not code:
            raise InvalidPartnerResponse("no code in the authorization response")
        tokens = client.exchange_code(code=code, redirect_uri=redirect_uri, code_verifier=pending.code_verifier, now=self.clock())
        claims = client.verify_id_token(tokens["id_token"], nonce=pending.nonce, now=self.clock())
        return PartnerIdentity(
            partner_id=partner.id, issuer=partner.issuer, subject=claims["sub"],
            acr=partner.level_for(claims.get("acr"), claims.get("amr")),
            signin_transaction_id=pending.signin_transaction_id, session_id=pending.session_id,
        )

    def _spend(self, plain_state: str | None, signin_transaction_id: int | None, session_id: int | None) -> PartnerRequest:
        if not plain_state or len(plain_state) > 128:
            raise RequestNotFound
        pending = self.session.scalar(
            select(PartnerRequest).where(PartnerRequest.state_hash == self.hasher.hash(STATE_PURPOSE, plain_state))
        )
        now = self.clock()
        if pending is None or pending.used_at is not None or pending.expires_at <= now:
            raise RequestNotFound
        is_linking = pending.session_id is not None
        belongs = pending.session_id == session_id if is_linking else (
            signin_transaction_id is not None and pending.signin_transaction_id == signin_transaction_id
        )
        if not belongs:
            raise RequestNotFound
        # Conditional UPDATE: of two callbacks racing with one state, one wins.
        spent = self.session.execute(
            update(PartnerRequest)
            .where(PartnerRequest.id == pending.id, PartnerRequest.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount != 1:
            raise RequestNotFound
        self.session.expire(pending, ["used_at"])
        return pending

    def purge_spent(self) -> int:
        """Delete round trips that are spent or expired; returns how many."""
        result = self.session.execute(
            delete(PartnerRequest).where((PartnerRequest.used_at.is_not(None)) | (PartnerRequest.expires_at <= self.clock()))
        )
        return result.rowcount

    # --- People ------------------------------------------------------------------------

    def find_linked_user(self, issuer: str, subject: str) -> User | None:
        link = self.session.scalar(select(PartnerLink).where(PartnerLink.issuer == issuer, PartnerLink.subject == subject))
        return self.session.get(User, link.user_id) if link is not None else None

    def sign_in(self, identity: PartnerIdentity, *, ip_address: str | None = None, user_agent: str | None = None) -> tuple[User, bool]:
        """The account linked to this person at this partner, created on their first
        sign-in: no password, no address, no name (issue 5). Returns (user, is_new); the
        caller refuses an account that is not active (disabled by an operator).
        """
        now = self.clock()
        link = self.session.scalar(
            select(PartnerLink).where(PartnerLink.issuer == identity.issuer, PartnerLink.subject == identity.subject)
        )
        if link is not None:
            link.last_used_at = now
            self.session.flush()
            return self.session.get(User, link.user_id), False
        user = User(
            subject=secrets.token_urlsafe(24), email=None, email_verified=False, given_name="", family_name="",
            password_hash=None, created_at=now, updated_at=now, activated_at=now,
        )
        self.session.add(user)
        self.session.flush()
        self.session.add(PartnerLink(
            user_id=user.id, issuer=identity.issuer, subject=identity.subject, partner_id=identity.partner_id,
            created_at=now, last_used_at=now,
        ))
        record_event(
            self.session, self.clock, EventTag.ACCOUNT_REGISTERED, user_id=user.id,
            ip_address=ip_address, user_agent=user_agent, partner=identity.partner_id,
        )
        self.session.flush()
        return user, True

    def discard_declined_account(self, user_id: int) -> bool:
        """The person declined the terms at their first partner sign-in: the account made for
        it goes (issue 5: an account is created for someone who accepts the terms), links
        and all. Only an account with no password, no address and no terms ever accepted;
        returns whether it was removed."""
        from idp.terms.models import TermsAcceptance

        user = self.session.get(User, user_id)
        if user is None or user.password_hash is not None or user.email is not None:
            return False
        accepted = self.session.scalar(select(TermsAcceptance.id).where(TermsAcceptance.user_id == user_id).limit(1))
        if accepted is not None:
            return False
        self.session.execute(delete(PartnerLink).where(PartnerLink.user_id == user_id))
        self.session.delete(user)
        self.session.flush()
        return True

    def link(
        self, user_id: int, identity: PartnerIdentity, *, ip_address: str | None = None, user_agent: str | None = None,
    ) -> PartnerLink:
        """Link this person at this partner to an account whose owner is signed in (issue 5:
        after signing in with both, never by matching an address); a security event says so.
        Raises PartnerAlreadyLinked when the pair belongs to another account."""
        existing = self.session.scalar(
            select(PartnerLink).where(PartnerLink.issuer == identity.issuer, PartnerLink.subject == identity.subject)
        )
        if existing is not None:
            if existing.user_id != user_id:
                raise PartnerAlreadyLinked
            return existing
        now = self.clock()
        link = PartnerLink(
            user_id=user_id, issuer=identity.issuer, subject=identity.subject, partner_id=identity.partner_id,
            created_at=now, last_used_at=now,
        )
        self.session.add(link)
        record_event(
            self.session, self.clock, EventTag.PARTNER_LINKED, user_id=user_id,
            ip_address=ip_address, user_agent=user_agent, partner=identity.partner_id,
        )
        self._notify(user_id, "linked", identity.partner_id)
        self.session.flush()
        return link

    def links_of(self, user_id: int) -> list[PartnerLink]:
        return list(self.session.scalars(
            select(PartnerLink).where(PartnerLink.user_id == user_id).order_by(PartnerLink.created_at, PartnerLink.id)
        ))

    def unlink(self, user_id: int, link_id: int, *, ip_address: str | None = None, user_agent: str | None = None) -> None:
        """Remove one of this person's links. Raises LinkNotFound, or LastWayToSignIn for
        the only link of an account without a password (nobody could sign in to it again)."""
        link = self.session.get(PartnerLink, link_id)
        if link is None or link.user_id != user_id:
            raise LinkNotFound
        user = self.session.get(User, user_id)
        if user.password_hash is None and len(self.links_of(user_id)) == 1:
            raise LastWayToSignIn
        self.session.delete(link)
        record_event(
            self.session, self.clock, EventTag.PARTNER_UNLINKED, user_id=user_id,
            ip_address=ip_address, user_agent=user_agent, partner=link.partner_id,
        )
        self._notify(user_id, "unlinked", link.partner_id)
        self.session.flush()

    def _notify(self, user_id: int, change: str, partner_id: str) -> None:
        """Mail the change to an account that has an address (a partner-only one has none)."""
        user = self.session.get(User, user_id)
        if self.mail is None or user is None or not user.email:
            return
        partner = self.partners.get(partner_id)
        self.mail.enqueue(
            to=user.email, template="partner-changed", locale=user.locale, user_id=user.id,
            context={
                "given_name": user.given_name, "change": change, "changed_at": self.clock().isoformat(),
                "partner_names": dict(partner.names) if partner else {"fr": partner_id, "en": partner_id},
            },
        )
