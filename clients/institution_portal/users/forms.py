"""The primary user's forms: shape only. Whether an address or a reason is acceptable is
Passerelle's decision (its refusals become messages in users/views.py). The wording is the
IdP's own organization pages', so both read the same."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from clients.institution_portal.users.services import FORMER_PRIMARY_CHOICES

MAX_EMAIL_LENGTH = 320
MAX_REASON_LENGTH = 1000  # Passerelle's limit (idp/orgs/text.py)
MAX_SUB_LENGTH = 255
NEW_PRIMARY = "new"  # the "someone who is not yet a member" choice
ENTER_AN_ADDRESS = _l("Enter an email address, like name@example.ca.")
EMAIL_TOO_LONG = _l("An email address has at most 320 characters.")
CHOOSE_A_LANGUAGE = _l("Choose the language of the invitation email.")
ENTER_A_REASON = _l("Explain why you make this request.")
REASON_TOO_LONG = _l("Write at most 1,000 characters.")
CHOOSE_A_MEMBER = _l("Choose a secondary user.")
CHOOSE_THE_NEW_PRIMARY = _l("Choose who becomes the primary user.")
CHOOSE_WHAT_YOU_BECOME = _l("Choose whether you stay as a secondary user or leave the organization.")
EMAIL_ATTRIBUTES = {"autocomplete": "off", "spellcheck": "false", "type": "email"}


def email_validators():
    return [InputRequired(message=ENTER_AN_ADDRESS), Length(max=MAX_EMAIL_LENGTH, message=EMAIL_TOO_LONG)]


def reason_field() -> TextAreaField:
    return TextAreaField(_l("Reason for the request"), validators=[
        InputRequired(message=ENTER_A_REASON), Length(max=MAX_REASON_LENGTH, message=REASON_TOO_LONG)])


class InviteForm(FlaskForm):
    """« Créer un compte pour un utilisateur d'un EED »: one address, then « Nouvelle requête »."""

    email = StringField(_l("Email address of the user"), validators=email_validators(), render_kw=EMAIL_ATTRIBUTES)
    locale = StringField(_l("Language of the invitation email"), validators=[
        InputRequired(message=CHOOSE_A_LANGUAGE), AnyOf(("fr", "en"), message=CHOOSE_A_LANGUAGE)])


class RemoveSecondaryForm(FlaskForm):
    member = StringField(_l("Secondary user to remove"), validators=[
        InputRequired(message=CHOOSE_A_MEMBER), Length(max=MAX_SUB_LENGTH, message=CHOOSE_A_MEMBER)])
    reason = reason_field()


class ChangePrimaryForm(FlaskForm):
    """The new primary: a secondary user (their sub) or NEW_PRIMARY with an address."""

    target = StringField(_l("New primary user"), validators=[
        InputRequired(message=CHOOSE_THE_NEW_PRIMARY), Length(max=MAX_SUB_LENGTH, message=CHOOSE_THE_NEW_PRIMARY)])
    # Not Optional(): its stop would skip validate_new_email, which requires it for NEW_PRIMARY.
    new_email = StringField(_l("Email address of the new primary user"),
                            validators=[Length(max=MAX_EMAIL_LENGTH, message=EMAIL_TOO_LONG)], render_kw=EMAIL_ATTRIBUTES)
    new_locale = StringField(_l("Language of the invitation email"),
                             validators=[Optional(), AnyOf(("fr", "en"), message=CHOOSE_A_LANGUAGE)])
    former_primary_becomes = StringField(_l("After the change, you"), validators=[
        InputRequired(message=CHOOSE_WHAT_YOU_BECOME), AnyOf(FORMER_PRIMARY_CHOICES, message=CHOOSE_WHAT_YOU_BECOME)])
    reason = reason_field()

    def validate_new_email(self, field) -> None:
        if self.target.data == NEW_PRIMARY and not (field.data or "").strip():
            raise ValidationError(str(ENTER_AN_ADDRESS))
