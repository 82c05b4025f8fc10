"""Sign-in forms: shape only (design.md, Where code goes). Whether a password is right is the
service's decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import AnyOf, InputRequired, Length

from idp.accounts.services import MAX_EMAIL_LENGTH
from idp.security.passwords import MAX_PASSWORD_LENGTH

INCORRECT_CREDENTIALS = _l("Incorrect email or password.")


class SigninForm(FlaskForm):
    # Over-long input gets the same message as a wrong password: nothing to learn from it.
    email = EmailField(
        _l("Email address"),
        validators=[
            InputRequired(message=_l("Enter your email address.")),
            Length(max=MAX_EMAIL_LENGTH, message=INCORRECT_CREDENTIALS),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(message=_l("Enter your password.")),
            Length(max=MAX_PASSWORD_LENGTH, message=INCORRECT_CREDENTIALS),
        ],
    )


class ConsentForm(FlaskForm):
    # Filled by the button pressed: <button name="decision" value="allow|deny">.
    decision = StringField(validators=[InputRequired(), AnyOf(("allow", "deny"))])


class SignoutForm(FlaskForm):
    """Only the CSRF token: signing out changes state, so it is a POST (HDR-05)."""
