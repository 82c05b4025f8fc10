"""The link journey (seed 000): the invitation link's form, the emailed activation link,
"Almost there" with the password, and resending the activation ("can't sign in?"). No Flask
here. Completion and the rest are shared with the code journey (services.py).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from idp.accounts.models import User
from idp.invitations.models import Invitation, InvitationState
from idp.registration.errors import (
    AccountAlreadyActive,
    ActivationLinkExpired,
    ActivationLinkInvalid,
    ActivationLinkUsed,
    RegistrationStepExpired,
)
from idp.registration.models import Registration, RegistrationKind
from idp.registration.services import (
    ACTIVATE_PATH,
    ACTIVATION_PURPOSE,
    CANT_SIGN_IN_PATH,
    MAX_TOKEN_LENGTH,
    Completed,
    RegistrationService,
)
from idp.security.secrets import new_token
from idp.terms.errors import TermsVersionChanged


class LinkRegistrationService(RegistrationService):
    """Registration by invitation link, on top of what both journeys share."""

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
