"""Recovery forms: shape only (design.md, Where code goes). Whether an account exists is never
a form's business: the page answers the same way for every address."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length, Optional

from idp.accounts.forms import NewPasswordForm, confirm_password_field, new_password_field
from idp.accounts.services import MAX_EMAIL_LENGTH
from idp.robot.forms import RobotCheckField

ENTER_EMAIL = _l("Enter your email address.")
EMAIL_FORMAT = _l("Enter an email address in the right format, like name@example.ca.")


class CantSignInForm(FlaskForm):
    """Seed 000, step 06: the address, and the not-a-robot check."""

    email = EmailField(
        _l("Email address"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired(message=ENTER_EMAIL), Length(max=MAX_EMAIL_LENGTH, message=EMAIL_FORMAT)],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"},
    )
    altcha = RobotCheckField()


class ResetPasswordForm(NewPasswordForm):
    """A new password, twice; the link's token travels in a cookie, not in the form. The
    second factor is asked only when the account has an app or a security key (the view
    decides and shows the field): REC-07."""

    password = new_password_field(_l("New password"))
    confirm_password = confirm_password_field(_l("Confirm your new password"))
    second_factor = StringField(
        _l("Code from your authenticator app, or a recovery code"),
        validators=[Optional(), Length(max=32, message=_l("Enter the 6-digit code from your app, or a recovery code."))],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "characters"},
    )
