"""Registration by invitation: what both journeys share, pending accounts and completion
above all. No Flask here (design.md, Where code goes): views call this and commit. The link
journey (seed 000) is idp/registration/links.py, the code journey (seed 001) codes.py.

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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from idp.accounts.errors import EmailAlreadyRegistered
from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.audit import EventTag, record_event
from idp.clock import Clock
from idp.config import Settings
from idp.invitations.binding import Bindings
from idp.invitations.errors import InvitationError, InvitationNotFound
from idp.invitations.mailing import landing_url
from idp.invitations.models import Invitation, InvitationState
from idp.invitations.services import InvitationService
from idp.mail.services import MailService
from idp.orgs.errors import OrgError
from idp.orgs.models import Organization
from idp.orgs.memberships import MembershipService
from idp.orgs.services import names_of
from idp.registration.errors import (
    AccountAlreadyActive,
    InvitationNoLongerValid,
    RegistrationStepExpired,
)
from idp.registration.models import Registration
from idp.security.passwords import PasswordHasher
from idp.security.secrets import KeyedHasher, new_token
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
        return Completed(user=user, registration=registration, continue_uri=self.continue_uri(invitation))

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
        Bindings(self.invitations).accept_documents_sent_with(invitation, user.id)
        for other in self.invitations.list(state=InvitationState.PENDING, email=user.email):
            if other.organization_id is not None or other.document is not None:
                # Membership only through the invitation registered with (issue 11); a
                # document only through its own link, never by the address (issue 13).
                continue
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

    def continue_uri(self, invitation: Invitation | None) -> str | None:
        """Where the inviting relying party wants people to land after registering: its
        initiate_login_uri with iss (and login_hint), OIDC Core §4. None when it has none."""
        if invitation is None:
            return None
        return landing_url(self.session, self.settings, invitation)

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

    def _organizations(self) -> MembershipService:
        return MembershipService(self.session, self.settings, self.clock, self.hasher, self.mail)

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
