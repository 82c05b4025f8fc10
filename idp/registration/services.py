"""Registration by invitation: pending accounts, activation links (seed 000) and what both
journeys share, completion above all. No Flask here (design.md, Where code goes): views call
this and commit. The code journey (seed 001) is idp/registration/codes.py.

Decisions (docs/operators.md, Registration):
- A registration form creates the account at once, pending (users.activated_at NULL), so the
  address is taken by one account from the start (the unique index settles two racing
  forms), and "can't sign in?" finds it to resend its activation (resend_activation).
  A pending account cannot sign in (User.is_active); the rows of this module hold what
  proves the address (keyed hashes of the link token or code) and the browser handle of the
  step that follows.
- An address that already has an active account gets an "account exists" email instead and
  the same page, after the same work (ENUM-01): the form never says whether it is registered.
  At most one such email per account per RECOVERY_EMAIL_COOLDOWN, so the forms cannot be
  used to flood its inbox.
- The invitation is consumed when the registration completes, not when the form is sent
  (issue 3); if it was revoked or expired meanwhile, completion is refused and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.errors import EmailAlreadyRegistered
from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.invitations.errors import InvitationError, InvitationNotFound
from idp.invitations.models import Invitation, InvitationState
from idp.invitations.services import InvitationService
from idp.mail.services import MailService
from idp.oidc.models import Client
from idp.orgs.errors import OrgError
from idp.orgs.models import Organization
from idp.orgs.services import OrganizationService, names_of
from idp.registration.errors import (
    AccountAlreadyActive,
    ActivationLinkExpired,
    ActivationLinkInvalid,
    ActivationLinkUsed,
    InvitationNoLongerValid,
    RegistrationStepExpired,
)
from idp.registration.models import Registration, RegistrationKind
from idp.registration.normalise import with_query
from idp.security.passwords import PasswordHasher
from idp.security.secrets import KeyedHasher, new_token
from idp.terms.errors import TermsVersionChanged
from idp.terms.services import TermsService

ACTIVATION_PURPOSE = "registration-activation"
HANDLE_PURPOSE = "registration-handle"
MAX_TOKEN_LENGTH = 200  # our tokens are 43 characters
# Paths the emails link to (absolute URLs need the issuer; mail renders without a request).
# tests/integration/registration check them against url_for.
ACTIVATE_PATH = "/register/activate/"
CONFIRM_PATH = "/register/confirm"
SIGNIN_PATH = "/signin"
CANT_SIGN_IN_PATH = "/signin/help"  # "Can't sign in?" (idp/recovery, its HELP_PATH)
LOCALES = ("fr", "en")
# Sent instead of an activation link or code when the address already has an account; at
# most one per account per RECOVERY_EMAIL_COOLDOWN (the same quiet period as "can't sign in?").
ACCOUNT_EXISTS_TEMPLATE = "account-exists"
# The same, for an organization's invitation: the institution needs another address.
ORGANIZATION_ACCOUNT_EXISTS_TEMPLATE = "organization-account-exists"


@dataclass(frozen=True)
class Completed:
    """A registration that just completed: who, and where the person goes next."""

    user: User
    registration: Registration
    # The inviting client's initiate_login_uri (OIDC Core §4) with iss and login_hint, or None.
    continue_uri: str | None


class RegistrationService:
    """Both registration journeys, from the form to the active account."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        clock: Clock,
        hasher: KeyedHasher,
        passwords: PasswordHasher,
        mail: MailService,
    ):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        self.passwords = passwords
        self.mail = mail
        self.accounts = AccountService(session, settings, clock, passwords)
        self.invitations = InvitationService(session, settings, clock, hasher)

    # The link journey (seed 000)

    def register_by_link(
        self, invitation: Invitation, *, email: str, given_name: str, family_name: str, locale: str
    ) -> None:
        """Take the link form: a pending account and its activation email.

        Raises InvitationEmailMismatch unless email is the invited address, InvalidName for
        an unusable name. A pending account for the address gets the new names and a new
        activation link; an active (or disabled) one gets the "account exists" email instead.
        """
        self.invitations.ensure_email_matches(invitation, email)
        user, is_new = self._pending_account(invitation.email, given_name, family_name, locale=locale)
        if not is_new and user.is_pending:
            self.accounts.update_pending_user(user, given_name, family_name, locale=locale)
        elif not is_new:
            self._send_account_exists(user, locale, invitation)
            return
        self._issue_activation(user, invitation.id, locale)

    def resend_activation(self, user: User) -> None:
        """Send a pending account a new activation link ("can't sign in?", seed 000 step 6).

        Does nothing for an account that is not pending, or whose invitations are all no
        longer valid (the person needs a new invitation; "can't sign in?" answers the same
        way whatever happens, so nothing is raised). The previous link stops working. The
        caller commits; the mail caps may drop the message (MailService.enqueue).
        """
        if not user.is_pending:
            return
        now = self.clock()
        rows = self.session.scalars(
            select(Registration).where(Registration.user_id == user.id).order_by(Registration.id.desc())
        )
        for row in rows:
            invitation = self.session.get(Invitation, row.invitation_id) if row.invitation_id else None
            if invitation is not None and invitation.state_at(now) == InvitationState.PENDING:
                self._issue_activation(user, invitation.id, row.locale)
                return

    def _issue_activation(self, user: User, invitation_id: int | None, locale: str) -> Registration | None:
        now = self.clock()
        plain_token = new_token(32)
        ttl = timedelta(seconds=self.settings.REGISTRATION_ACTIVATION_TTL)
        row = Registration(
            email=user.email,
            user_id=user.id,
            invitation_id=invitation_id,
            kind=RegistrationKind.LINK,
            locale=self._locale(locale),
            token_hash=self.hasher.hash(ACTIVATION_PURPOSE, plain_token),
            secret_expires_at=now + ttl,
            secret_sent_at=now,
            attempts=0,
            created_at=now,
        )
        self.session.add(row)
        self.session.flush()
        message = self.mail.enqueue(
            to=user.email,
            template="activation",
            locale=row.locale,
            context={
                "given_name": user.given_name,
                "activation_url": self.settings.OIDC_ISSUER + ACTIVATE_PATH + plain_token,
                "valid_hours": max(1, round(ttl.total_seconds() / 3600)),
                "cant_sign_in_url": self.settings.OIDC_ISSUER + CANT_SIGN_IN_PATH,
            },
            user_id=user.id,
        )
        if message is None:
            # Capped: keep the older link working rather than replace it with an unsent one.
            self.session.delete(row)
            self.session.flush()
            return None
        self._close_older(row)
        return row

    def find_activation(self, plain_token: str) -> Registration:
        """The registration an activation link opens, if it may still be confirmed.

        Raises ActivationLinkInvalid (unknown or replaced by a newer link), ActivationLinkUsed,
        ActivationLinkExpired, or AccountAlreadyActive once the account is active.
        """
        if not isinstance(plain_token, str) or not plain_token or len(plain_token) > MAX_TOKEN_LENGTH:
            raise ActivationLinkInvalid
        row = self.session.scalar(
            select(Registration).where(Registration.token_hash == self.hasher.hash(ACTIVATION_PURPOSE, plain_token))
        )
        user = self.session.get(User, row.user_id) if row is not None and row.user_id is not None else None
        if row is None or user is None:
            raise ActivationLinkInvalid
        if not user.is_pending:
            raise AccountAlreadyActive
        if row.verified_at is not None:
            raise ActivationLinkUsed
        if row.closed_at is not None:
            raise ActivationLinkInvalid
        if self.clock() >= row.secret_expires_at:
            raise ActivationLinkExpired
        return row

    def confirm_activation(self, plain_token: str) -> tuple[Registration, str]:
        """Spend the activation link (the POST of its confirm button, PW-10): the address is
        proven. Returns the registration and a plain handle for the browser's cookie, which
        "Almost there" reads. Raises what find_activation raises; of two concurrent confirms
        exactly one wins, the other gets ActivationLinkUsed (one conditional UPDATE, R2)."""
        row = self.find_activation(plain_token)
        now = self.clock()
        result = self.session.execute(
            update(Registration)
            .where(
                Registration.id == row.id,
                Registration.verified_at.is_(None),
                Registration.closed_at.is_(None),
                Registration.secret_expires_at > now,
            )
            .values(verified_at=now)
            .execution_options(synchronize_session=False)
        )
        self.session.expire(row)
        if result.rowcount != 1:
            raise ActivationLinkUsed
        user = self.session.get(User, row.user_id)
        user.email_verified = True
        plain_handle = self._give_handle(row)
        self.session.flush()
        return row, plain_handle

    def find_for_password_step(self, plain_handle: str | None) -> tuple[Registration, User]:
        """The confirmed link registration waiting for "Almost there" in this browser.

        Raises RegistrationStepExpired, or AccountAlreadyActive when it already completed.
        """
        row = self._find_by_handle(plain_handle)
        user = self.session.get(User, row.user_id) if row.user_id is not None else None
        if row.kind != RegistrationKind.LINK or row.verified_at is None or user is None:
            raise RegistrationStepExpired
        if row.completed_at is not None or not user.is_pending:
            raise AccountAlreadyActive
        if row.closed_at is not None:
            raise RegistrationStepExpired
        return row, user

    def complete_with_password(
        self,
        registration: Registration,
        plain_password: str,
        *,
        locale: str,
        terms_version: str | None = None,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> Completed:
        """"Almost there" (seed 000, step 3): the password, terms consent and activation, in
        the caller's one transaction. The caller checked the password fields and the robot
        check; set_password checks the policy again (WeakPassword). Raises
        AccountAlreadyActive (a second submit), InvitationNoLongerValid.

        terms_version is the version the page showed: TermsVersionChanged, before anything
        changes, if another was published meanwhile (nobody consents to a text unseen)."""
        user = self.session.get(User, registration.user_id)
        if user is None or not user.is_pending:
            raise AccountAlreadyActive
        if terms_version is not None and terms_version != self.current_terms_version():
            raise TermsVersionChanged
        self.accounts.set_password(user, plain_password)
        return self._complete(registration, user, locale=locale, ip_address=ip_address, user_agent=user_agent)

    # Shared by both journeys

    def _pending_account(self, email: str, given_name: str, family_name: str, **details) -> tuple[User, bool]:
        """A new pending account for the address (True), or the account it already has (False),
        also when a concurrent form created it between the look-up and the insert (that
        form's INSERT can still win later: the view retries on IntegrityError)."""
        user = self.accounts.find_by_email(email)
        if user is not None:
            return user, False
        try:
            return self.accounts.create_pending_user(email, given_name, family_name, **details), True
        except EmailAlreadyRegistered:
            return self.accounts.find_by_email(email), False

    def find_completed(self, plain_handle: str | None) -> Registration:
        """The completed registration this browser's handle names. Raises RegistrationStepExpired."""
        row = self._find_by_handle(plain_handle)
        if row.completed_at is None:
            raise RegistrationStepExpired
        return row

    def new_handle_for(self, registration: Registration) -> str:
        """A fresh browser handle for this registration (after completion: the confirmed page)."""
        return self._give_handle(registration)

    def _complete(
        self,
        registration: Registration,
        user: User,
        *,
        locale: str,
        ip_address: str | None,
        user_agent: str | None,
    ) -> Completed:
        now = self.clock()
        claimed = self.session.execute(
            update(Registration)
            .where(Registration.id == registration.id, Registration.completed_at.is_(None))
            .values(completed_at=now)
            .execution_options(synchronize_session=False)
        )
        self.session.expire(registration)
        if claimed.rowcount != 1:
            raise AccountAlreadyActive
        invitation = self._accept_invitations(registration, user)
        self.accounts.activate(user)
        self._record_terms(registration, user, locale)
        self.session.execute(
            update(Registration)
            .where(
                Registration.user_id == user.id,
                Registration.id != registration.id,
                Registration.completed_at.is_(None),
                Registration.closed_at.is_(None),
            )
            .values(closed_at=now)
            .execution_options(synchronize_session=False)
        )
        record_event(
            self.session, self.clock, EventTag.ACCOUNT_REGISTERED, user_id=user.id,
            ip_address=ip_address, user_agent=user_agent,
            journey=str(registration.kind), invitation_id=invitation.id,
        )
        self.session.flush()
        return Completed(user=user, registration=registration, continue_uri=self.continue_uri(invitation, user))

    def _accept_invitations(self, registration: Registration, user: User) -> Invitation:
        """Consume the registration's invitation, then any other pending one for the address
        (two inviters, one account: each sees it accepted)."""
        try:
            if registration.invitation_id is None:
                raise InvitationNotFound
            invitation = self.invitations.accept(registration.invitation_id, user.id)
        except InvitationError as error:
            raise InvitationNoLongerValid(type(error).__name__) from None
        if invitation.organization_id is not None:
            try:
                self._organizations().join_from_invitation(invitation, user)
            except OrgError:
                # Disabled meanwhile, or its primary taken: as if the inviter withdrew it.
                raise InvitationNoLongerValid("InvitationRevoked") from None
        for other in self.invitations.list(state=InvitationState.PENDING, email=user.email):
            if other.organization_id is not None:
                continue  # membership only through the invitation registered with (issue 11)
            try:
                self.invitations.accept(other.id, user.id)
            except InvitationError:
                continue
        return invitation

    def _record_terms(self, registration: Registration, user: User, locale: str) -> None:
        """Record the consent given on the form, unless a newer version was published
        meanwhile: then the first sign-in asks for the new one (issue 3, Terms)."""
        terms = TermsService(self.session, self.settings, self.clock)
        if registration.terms_version is None or registration.terms_version == terms.current_version():
            terms.accept(user.id, self._locale(locale))

    def current_terms_version(self) -> str:
        return TermsService(self.session, self.settings, self.clock).current_version()

    def continue_uri(self, invitation: Invitation | None, user: User) -> str | None:
        """Where the inviting relying party wants people to land after registering: its
        initiate_login_uri with iss (and login_hint), OIDC Core §4. None when it has none."""
        if invitation is None or not invitation.client_id:
            return None
        uri = self.session.scalar(select(Client.initiate_login_uri).where(Client.client_id == invitation.client_id))
        if not uri or urlsplit(uri).scheme not in ("https", "http"):
            return None
        return with_query(uri, iss=self.settings.OIDC_ISSUER, login_hint=user.email)

    def invitation_of(self, registration: Registration) -> Invitation | None:
        return self.session.get(Invitation, registration.invitation_id) if registration.invitation_id else None

    def _send_account_exists(self, user: User, locale: str, invitation: Invitation | None = None) -> None:
        """Tell the account's owner someone registered with their address, at most once per
        RECOVERY_EMAIL_COOLDOWN: otherwise the registration forms could fill that inbox (and
        the account's mail caps) one submission at a time. The page is the same either way.

        With an organization's invitation the email says instead that the institution needs
        another address: organization accounts are dedicated (issue 11)."""
        if self.was_recently_told_account_exists(user.id):
            return
        context = {
            "given_name": user.given_name,
            "signin_url": self.settings.OIDC_ISSUER + SIGNIN_PATH,
            "cant_sign_in_url": self.settings.OIDC_ISSUER + CANT_SIGN_IN_PATH,
        }
        organization = self.session.get(Organization, invitation.organization_id) if (
            invitation is not None and invitation.organization_id is not None
        ) else None
        if organization is not None:
            context.update(names_of(organization))
        self.mail.enqueue(
            to=user.email,
            template=ORGANIZATION_ACCOUNT_EXISTS_TEMPLATE if organization is not None else ACCOUNT_EXISTS_TEMPLATE,
            locale=self._locale(locale),
            context=context,
            user_id=user.id,
        )

    def _organizations(self) -> OrganizationService:
        return OrganizationService(self.session, self.settings, self.clock, self.hasher, self.mail)

    def was_recently_told_account_exists(self, user_id: int) -> bool:
        """Whether an "account exists" email to this account was queued within the cooldown.

        Read from the outbox, as "can't sign in?" does for its emails (RecoveryService), so a
        message the caps refused (never queued) does not start it.
        """
        cooldown = timedelta(seconds=int(self.settings.RECOVERY_EMAIL_COOLDOWN))
        last = self.mail.last_queued_at(user_id, (ACCOUNT_EXISTS_TEMPLATE, ORGANIZATION_ACCOUNT_EXISTS_TEMPLATE))
        return last is not None and last > self.clock() - cooldown

    def _close_older(self, row: Registration) -> None:
        """Only the newest link or code works: close the same account's (or address's) older
        open rows of the same kind."""
        owner = Registration.user_id == row.user_id if row.user_id is not None else (
            (Registration.user_id.is_(None)) & (Registration.email == row.email)
        )
        self.session.execute(
            update(Registration)
            .where(
                owner,
                Registration.kind == row.kind,
                Registration.id != row.id,
                Registration.closed_at.is_(None),
                Registration.completed_at.is_(None),
            )
            .values(closed_at=self.clock())
            .execution_options(synchronize_session=False)
        )

    def _give_handle(self, row: Registration) -> str:
        plain_handle = new_token(32)
        row.handle_hash = self.hasher.hash(HANDLE_PURPOSE, plain_handle)
        row.handle_expires_at = self.clock() + timedelta(seconds=self.settings.REGISTRATION_PAGE_TTL)
        self.session.flush()
        return plain_handle

    def _find_by_handle(self, plain_handle: str | None) -> Registration:
        if not isinstance(plain_handle, str) or not plain_handle or len(plain_handle) > MAX_TOKEN_LENGTH:
            raise RegistrationStepExpired
        row = self.session.scalar(
            select(Registration).where(Registration.handle_hash == self.hasher.hash(HANDLE_PURPOSE, plain_handle))
        )
        if row is None or row.handle_expires_at is None or self.clock() >= row.handle_expires_at:
            raise RegistrationStepExpired
        return row

    def _locale(self, locale: str | None) -> str:
        return locale if locale in LOCALES else self.settings.BABEL_DEFAULT_LOCALE
