"""Registration forms: shape only (design.md, Where code goes). Whether an invitation code,
a verification code or a password is good is the services' decision."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, Form, HiddenField, StringField, TelField
from wtforms.validators import InputRequired, Length, StopValidation

from idp.accounts.errors import InvalidEmail
from idp.accounts.forms import NewPasswordForm, confirm_password_field, new_password_field
from idp.accounts.services import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, canonical_email
from idp.registration.errors import InvalidPhoneNumber
from idp.registration.normalise import MAX_PHONE_LENGTH, normalise_code, normalise_phone_number
from idp.robot.forms import RobotCheckField

# Line breaks, tabs and other invisible control characters have no place in a name or address.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_INVITATION_CODE_LENGTH = 64  # 16 symbols and separators; more cannot be one of ours

EMAIL_FORMAT = _l("Enter an email address in the correct format, like name@example.ca.")
TERMS_REQUIRED = _l("To create your account, you must consent to the terms of use and the privacy policy.")
TERMS_CHANGED = _l(
    "A new version of the terms of use and the privacy policy was published while you were on this page. "
    "Read it, then check the box again to consent."
)
PHONE_INVALID = _l(
    "Enter a valid phone number, like 514 555-0123, or an international number starting with +, like +33 1 23 45 67 89."
)


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def no_control_characters(message):
    def check(form: Form, field: Field) -> None:
        if field.data and _CONTROL_CHARACTERS.search(field.data):
            raise StopValidation(str(message))

    return check


def email_shape(form: Form, field: Field) -> None:
    try:
        canonical_email(field.data or "")
    except InvalidEmail:
        raise StopValidation(str(EMAIL_FORMAT)) from None


def valid_phone(form: Form, field: Field) -> None:
    try:
        normalise_phone_number(field.data or "", current_app.config["REGISTRATION_PHONE_REGION"])
    except InvalidPhoneNumber:
        raise StopValidation(str(PHONE_INVALID)) from None


def six_digits(form: Form, field: Field) -> None:
    if normalise_code(field.data) is None:
        raise StopValidation(str(_l("Enter the 6 digits of the verification code, like 123456.")))


def email_field() -> EmailField:
    return EmailField(
        _l("Email address"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Enter your email address.")),
            Length(max=MAX_EMAIL_LENGTH, message=EMAIL_FORMAT),
            email_shape,
        ],
    )


def given_name_field() -> StringField:
    return StringField(
        _l("Given name"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Enter your given name.")),
            Length(max=MAX_NAME_LENGTH, message=_l("Your given name must have no more than %(max)d characters.")),
            no_control_characters(_l("Your given name must not contain line breaks or invisible characters.")),
        ],
    )


def family_name_field() -> StringField:
    return StringField(
        _l("Family name"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Enter your family name.")),
            Length(max=MAX_NAME_LENGTH, message=_l("Your family name must have no more than %(max)d characters.")),
            no_control_characters(_l("Your family name must not contain line breaks or invisible characters.")),
        ],
    )


def terms_field() -> BooleanField:
    # InputRequired: an unchecked box sends nothing, which is what it refuses.
    return BooleanField(
        _l("Yes, I consent to the terms of use and the privacy policy"),
        validators=[InputRequired(message=TERMS_REQUIRED)],
    )


class InvitationForm(FlaskForm):
    """Seed 000, step 2: names and the invited address."""

    given_name = given_name_field()
    family_name = family_name_field()
    email = email_field()


class ConfirmEmailForm(FlaskForm):
    """The activation page's button: only the CSRF token (a GET never activates, PW-10)."""


class AlmostThereForm(NewPasswordForm):
    """Seed 000, step 3: password twice, not a robot, terms."""

    password = new_password_field(_l("Password"))
    confirm_password = confirm_password_field(_l("Confirm your password"))
    altcha = RobotCheckField()
    accept_terms = terms_field()
    # The terms version the page showed: consent counts only if it is still the one in force.
    terms_version = HiddenField(validators=[Length(max=32)])


class CodeRegistrationForm(NewPasswordForm):
    """Seed 001: the invitation code and the account's details, with its password."""

    code = StringField(
        _l("Invitation code"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Enter the invitation code from your invitation email.")),
            Length(
                max=MAX_INVITATION_CODE_LENGTH,
                message=_l("This invitation code is too long. Copy it from your invitation email."),
            ),
        ],
    )
    email = email_field()
    given_name = given_name_field()
    family_name = family_name_field()
    phone_number = TelField(
        _l("Phone number"),
        filters=[strip],
        validators=[
            InputRequired(message=_l("Enter your phone number.")),
            Length(max=MAX_PHONE_LENGTH, message=PHONE_INVALID),
            valid_phone,
        ],
    )
    password = new_password_field(_l("Password"))
    confirm_password = confirm_password_field(_l("Confirm your password"))
    altcha = RobotCheckField()
    accept_terms = terms_field()
    # The terms version the page showed: recorded with the registration, whose completion
    # records the consent only if that version is still in force.
    terms_version = HiddenField(validators=[Length(max=32)])


class ConfirmCodeForm(FlaskForm):
    """Seed 001, step 2: the address and the emailed verification code."""

    email = email_field()
    verification_code = StringField(
        _l("Verification code"),
        filters=[strip],
        validators=[InputRequired(message=_l("Enter the verification code from the email.")), six_digits],
    )


class NewCodeForm(FlaskForm):
    """"Request a new code". The address comes from the browser's registration when there is
    one; otherwise the person types it."""

    email = EmailField(_l("Email address"), filters=[strip])
