"""The primary user's forms: shape only (design.md, Where code goes). Whether an address,
a reason or a member is acceptable is the organizations service's decision
(idp/orgs/text.py), whose refusals the views turn into messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, Regexp, ValidationError

from idp.orgs.models import FormerPrimaryBecomes
from idp.orgs.text import MAX_REASON_LENGTH

MAX_EMAIL_LENGTH = 320  # RFC 5321 §4.5.3.1 caps a path at 256; 320 is the usual column
ENTER_AN_ADDRESS = _l("Enter an email address, like name@example.ca.")
EMAIL_TOO_LONG = _l("An email address has at most 320 characters.")
CHOOSE_A_LANGUAGE = _l("Choose the language of the invitation email.")
ENTER_A_REASON = _l("Explain why you make this request.")
REASON_TOO_LONG = _l("Write at most 1,000 characters.")
CHOOSE_A_MEMBER = _l("Choose a secondary user.")
CHOOSE_THE_NEW_PRIMARY = _l("Choose who becomes the primary user.")
CHOOSE_WHAT_YOU_BECOME = _l("Choose whether you stay as a secondary user or leave the organization.")
NEW_PRIMARY = "new"  # the "someone who is not yet a member" choice


def email_field(label) -> StringField:
    return StringField(
        label,
        validators=[InputRequired(message=ENTER_AN_ADDRESS), Length(max=MAX_EMAIL_LENGTH, message=EMAIL_TOO_LONG)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "type": "email"},
    )


def locale_field() -> StringField:
    return StringField(
        _l("Language of the invitation email"),
        validators=[InputRequired(message=CHOOSE_A_LANGUAGE), AnyOf(("fr", "en"), message=CHOOSE_A_LANGUAGE)],
    )


def reason_field() -> TextAreaField:
    # The service checks markup and bidirectional characters; the form only caps the size.
    return TextAreaField(
        _l("Reason for the request"),
        validators=[InputRequired(message=ENTER_A_REASON), Length(max=MAX_REASON_LENGTH, message=REASON_TOO_LONG)],
    )


class InviteForm(FlaskForm):
    """« Créer un compte pour un utilisateur d'un EED »: one address, then « Nouvelle requête »."""

    email = email_field(_l("Email address of the user"))
    locale = locale_field()


class ActionForm(FlaskForm):
    """Only the CSRF token: resending and withdrawing an invitation change state (POST)."""


class RemoveSecondaryForm(FlaskForm):
    member = StringField(
        _l("Secondary user to remove"),
        validators=[InputRequired(message=CHOOSE_A_MEMBER), Regexp(r"^[0-9]{1,12}$", message=CHOOSE_A_MEMBER)],
    )
    reason = reason_field()


class ChangePrimaryForm(FlaskForm):
    """The new primary: a secondary user (their membership id) or NEW_PRIMARY with an address."""

    target = StringField(
        _l("New primary user"),
        validators=[
            InputRequired(message=CHOOSE_THE_NEW_PRIMARY),
            Regexp(rf"^([0-9]{{1,12}}|{NEW_PRIMARY})$", message=CHOOSE_THE_NEW_PRIMARY),
        ],
    )
    new_email = StringField(
        _l("Email address of the new primary user"),
        # Not Optional(): its stop would skip validate_new_email, which requires it for NEW_PRIMARY.
        validators=[Length(max=MAX_EMAIL_LENGTH, message=EMAIL_TOO_LONG)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "type": "email"},
    )
    new_locale = StringField(
        _l("Language of the invitation email"),
        validators=[Optional(), AnyOf(("fr", "en"), message=CHOOSE_A_LANGUAGE)],
    )
    former_primary_becomes = StringField(
        _l("After the change, you"),
        validators=[
            InputRequired(message=CHOOSE_WHAT_YOU_BECOME),
            AnyOf(tuple(FormerPrimaryBecomes), message=CHOOSE_WHAT_YOU_BECOME),
        ],
    )
    reason = reason_field()

    def validate_new_email(self, field) -> None:
        if self.target.data == NEW_PRIMARY and not (field.data or "").strip():
            raise ValidationError(str(ENTER_AN_ADDRESS))
