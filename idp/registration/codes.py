"""The code journey (seed 001): the form with the invitation code, the emailed 6-digit
verification code with its attempts and "Request a new code", then the person signs in. No
Flask here. Completion and the rest are shared with the link journey (services.py)."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import select, update

from idp.accounts.errors import InvalidEmail
from idp.accounts.models import User
from idp.accounts.services import canonical_email
from idp.registration.errors import (
    AccountAlreadyActive,
    CodeResendTooSoon,
    InvalidVerificationCode,
    RegistrationStepExpired,
)
from idp.registration.models import Registration, RegistrationKind
from idp.registration.normalise import CODE_DIGITS, normalise_code, normalise_phone_number
from idp.registration.services import CONFIRM_PATH, Completed, RegistrationService
from idp.security.secrets import equal, new_numeric_code, new_token

CODE_PURPOSE = "registration-code"


class CodeRegistrationService(RegistrationService):
    """Registration by invitation code, on top of what both journeys share."""

    def register_by_code(
        self,
        *,
        plain_code: str,
        email: str,
        given_name: str,
        family_name: str,
        phone_number: str,
        plain_password: str,
        locale: str,
        terms_version: str | None,
    ) -> tuple[Registration, str]:
        """Take the code form: a pending account with its password, and an emailed code.

        Returns the registration and a plain handle for the browser's cookie ("Confirm your
        registration" reads it). Raises InvitationNotFound for a wrong code or a code with
        another address alike, InvitationExpired, InvitationRevoked, InvitationAlreadyUsed,
        InvalidPhoneNumber, InvalidName. The caller checked the password against the policy.

        An address with an active account gets the "account exists" email, and a row that
        no code can complete, after the same argon2 work: the page that follows is the same.
        """
        invitation = self.invitations.find_by_code(plain_code, email)
        phone = normalise_phone_number(phone_number, self.settings.REGISTRATION_PHONE_REGION)
        details = dict(plain_password=plain_password, phone_number=phone, locale=locale)
        user, is_new = self._pending_account(invitation.email, given_name, family_name, **details)
        if not is_new and user.is_pending:
            self.accounts.update_pending_user(user, given_name, family_name, **details)
        elif not is_new:
            self.passwords.hash(plain_password)  # the work a new account costs (ENUM-01)
            self._send_account_exists(user, locale, invitation)
            user = None
        now = self.clock()
        row = Registration(
            email=invitation.email,
            user_id=user.id if user is not None else None,
            invitation_id=invitation.id,
            kind=RegistrationKind.CODE,
            locale=self._locale(locale),
            terms_version=terms_version,
            secret_expires_at=now,
            secret_sent_at=now,
            attempts=0,
            created_at=now,
        )
        if not self._new_code(row, user):
            # The mail caps dropped this code: the registration whose code did go out stays
            # the one to confirm, rather than one holding a code nobody received.
            current = self._open_code_registration(invitation.email)
            if current is not None:
                return current, self._give_handle(current)
        self.session.add(row)
        self.session.flush()
        if row.code_hash is not None:
            self._close_older(row)
        return row, self._give_handle(row)

    def find_for_confirm_step(self, plain_handle: str | None) -> Registration:
        """The code registration this browser's handle names, while it waits for its code.

        Raises RegistrationStepExpired, AccountAlreadyActive once it completed.
        """
        row = self._find_by_handle(plain_handle)
        if row.kind != RegistrationKind.CODE:
            raise RegistrationStepExpired
        if row.completed_at is not None:
            raise AccountAlreadyActive
        if row.closed_at is not None or row.verified_at is not None:
            raise RegistrationStepExpired
        return row

    def request_new_code(self, *, registration: Registration | None = None, email: str | None = None) -> Registration | None:
        """"Request a new code": replace the code of this registration (the browser's own) or of
        the open one for this address, and send it; the previous code stops working.

        With the browser's registration, raises CodeResendTooSoon within the cooldown. With
        only an address, returns None and says nothing when no registration waits or the
        cooldown runs: the answer must not tell whether the address registered.
        """
        now = self.clock()
        cooldown = timedelta(seconds=self.settings.REGISTRATION_CODE_RESEND_COOLDOWN)
        row = registration if registration is not None else self._open_code_registration(email)
        if row is None:
            return None
        wait = row.secret_sent_at + cooldown - now
        if wait > timedelta(0):
            if registration is None:
                return None
            raise CodeResendTooSoon(math.ceil(wait.total_seconds()))
        user = self.session.get(User, row.user_id) if row.user_id is not None else None
        self._new_code(row, user)  # capped: the code already sent, if any, keeps working
        self.session.flush()
        return row

    def confirm_code(
        self, email: str, plain_code: str, *, ip_address: str | None = None, user_agent: str | None = None
    ) -> Completed:
        """"Confirm your registration" (seed 001, step 2): the address and the emailed code.

        Each try counts against the code before it is compared, with one conditional UPDATE,
        so parallel guesses cannot exceed REGISTRATION_CODE_MAX_ATTEMPTS (MFA-04); the caller
        commits a failure too, or the count would roll back. Raises InvalidVerificationCode
        for every failure (wrong, expired, burned, unknown address), AccountAlreadyActive,
        InvitationNoLongerValid.
        """
        code = normalise_code(plain_code)
        row = self._open_code_registration(email)
        candidate_hash = self.hasher.hash(CODE_PURPOSE, code or "")
        if row is None or code is None:
            raise InvalidVerificationCode
        counted = self.session.execute(
            update(Registration)
            .where(
                Registration.id == row.id,
                Registration.attempts < self.settings.REGISTRATION_CODE_MAX_ATTEMPTS,
                Registration.verified_at.is_(None),
            )
            .values(attempts=Registration.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        self.session.expire(row)
        is_match = row.code_hash is not None and equal(candidate_hash, row.code_hash)
        if counted.rowcount != 1 or not is_match or self.clock() >= row.secret_expires_at or row.user_id is None:
            raise InvalidVerificationCode
        claimed = self.session.execute(
            update(Registration)
            .where(Registration.id == row.id, Registration.verified_at.is_(None))
            .values(verified_at=self.clock())
            .execution_options(synchronize_session=False)
        )
        self.session.expire(row)
        if claimed.rowcount != 1:
            raise InvalidVerificationCode
        user = self.session.get(User, row.user_id)
        if user is None or not user.is_pending:
            raise AccountAlreadyActive
        return self._complete(row, user, locale=row.locale, ip_address=ip_address, user_agent=user_agent)

    def _new_code(self, row: Registration, user: User | None) -> bool:
        """Give the row a new code and send it; a row without an account gets a code nobody
        can know (and no email): its page behaves the same, and nothing completes it.

        Returns False when the mail caps dropped the message: then the row keeps the code it
        had, or none, never one that was not sent (issue 9, item 12).
        """
        now = self.clock()
        ttl = timedelta(seconds=self.settings.REGISTRATION_CODE_TTL)
        row.secret_sent_at = now
        if user is None:
            row.code_hash = self.hasher.hash(CODE_PURPOSE, new_token(32))
            row.secret_expires_at = now + ttl
            row.attempts = 0
            return True
        plain_code = new_numeric_code(CODE_DIGITS)
        message = self.mail.enqueue(
            to=user.email,
            template="registration-code",
            locale=row.locale,
            context={
                "given_name": user.given_name,
                "code": plain_code,
                "valid_minutes": max(1, round(ttl.total_seconds() / 60)),
                "confirm_url": self.settings.OIDC_ISSUER + CONFIRM_PATH,
            },
            user_id=user.id,
        )
        if message is None:
            return False
        row.code_hash = self.hasher.hash(CODE_PURPOSE, plain_code)
        row.secret_expires_at = now + ttl
        row.attempts = 0
        return True

    def _open_code_registration(self, email: str | None) -> Registration | None:
        try:
            address = canonical_email(email) if isinstance(email, str) else None
        except InvalidEmail:
            address = None
        if address is None:
            return None
        return self.session.scalar(
            select(Registration)
            .where(
                Registration.email == address,
                Registration.kind == RegistrationKind.CODE,
                Registration.closed_at.is_(None),
                Registration.completed_at.is_(None),
                Registration.verified_at.is_(None),
                Registration.code_hash.is_not(None),
            )
            .order_by(Registration.id.desc())
            .limit(1)
        )
