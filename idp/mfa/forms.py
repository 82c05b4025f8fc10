"""Second-factor forms: shape only. Whether a code is right is the service's decision."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, Regexp

from idp.mfa.services import normalize_code

ENTER_THE_CODE = _l("Enter the 6-digit code from the email.")


class EmailCodeForm(FlaskForm):
    code = StringField(
        _l("Verification code"),
        filters=[normalize_code],
        validators=[
            InputRequired(message=ENTER_THE_CODE),
            Length(max=6, message=ENTER_THE_CODE),
            Regexp(r"^[0-9]{6}$", message=ENTER_THE_CODE),
        ],
    )


class ResendCodeForm(FlaskForm):
    """Only the CSRF token: "Request a new code" changes state, so it is a POST."""


ENTER_THE_APP_CODE = _l("Enter the 6-digit code your authenticator app shows.")
ENTER_A_RECOVERY_CODE = _l("Enter one of your recovery codes, for example ABCD-2345-WXYZ.")
CHOOSE_A_METHOD = _l("Choose how you will confirm it is you.")


class AppCodeForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        filters=[normalize_code],
        validators=[
            InputRequired(message=ENTER_THE_APP_CODE),
            Length(max=6, message=ENTER_THE_APP_CODE),
            Regexp(r"^[0-9]{6}$", message=ENTER_THE_APP_CODE),
        ],
    )


class RecoveryCodeForm(FlaskForm):
    code = StringField(
        _l("Recovery code"),
        validators=[InputRequired(message=ENTER_A_RECOVERY_CODE), Length(max=32, message=ENTER_A_RECOVERY_CODE)],
    )


class SetupChoiceForm(FlaskForm):
    """The method, one of the radio buttons the page shows (the view knows which it offers)."""

    method = StringField(
        _l("Second step of signing in"),
        validators=[InputRequired(message=CHOOSE_A_METHOD), AnyOf(("webauthn", "totp", "email_code"), message=CHOOSE_A_METHOD)],
    )


# Security keys (idp/mfa/security_key_views.py). The page's script fills `credential` with
# the browser's answer (JSON) and sends the form; without it there is nothing to check.
NO_SECURITY_KEY_ANSWER = _l(
    "Your browser did not send an answer from a security key. Select the button and follow your browser's "
    "instructions, or use another method."
)


class SecurityKeyForm(FlaskForm):
    credential = HiddenField(
        validators=[InputRequired(message=NO_SECURITY_KEY_ANSWER), Length(max=16000, message=NO_SECURITY_KEY_ANSWER)],
    )


class SecurityKeySetupForm(SecurityKeyForm):
    nickname = StringField(
        _l("Name of the key (optional)"),
        filters=[lambda value: (value or "").strip()],
        validators=[Length(max=64, message=_l("Enter a name of at most 64 characters."))],
    )
