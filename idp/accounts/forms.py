"""Account forms: shape only (design.md, Where code goes). Whether a password is good enough
is the password policy's decision, asked through AccountService.check_new_password."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, Form, PasswordField
from wtforms.validators import InputRequired, Length, StopValidation

from idp.accounts.errors import WeakPassword
from idp.accounts.password_text import CONFIRM_REQUIRED, MISMATCH, REQUIRED, current_password_policy, describe_problem
from idp.accounts.services import AccountService
from idp.security.password_policy import PasswordProblem
from idp.security.unicode_forms import normalize_password
from idp.security.passwords import MAX_PASSWORD_LENGTH


def refuse_huge_password(form: Form, field: Field) -> None:
    """Stop at MAX_PASSWORD_LENGTH (VAL-03), saying what the policy says about long ones.

    The policy's own maximum (128 by default) is checked later, with the other rules; this
    cap only keeps a megabyte of input away from NFKC and the list look-up.
    """
    if field.data is not None and len(field.data) > MAX_PASSWORD_LENGTH:
        raise StopValidation(describe_problem(PasswordProblem.TOO_LONG, current_password_policy()))


def new_password_field(label: LazyString | str = _l("Password")) -> PasswordField:
    """A new-password input; password managers offer to generate one (autocomplete)."""
    return PasswordField(
        label,
        validators=[InputRequired(message=REQUIRED), refuse_huge_password],
        render_kw={"autocomplete": "new-password"},
    )


def confirm_password_field(label: LazyString | str = _l("Confirm your password")) -> PasswordField:
    return PasswordField(
        label,
        validators=[InputRequired(message=CONFIRM_REQUIRED), refuse_huge_password],
        render_kw={"autocomplete": "new-password"},
    )


class NewPasswordForm(FlaskForm):
    """The two fields of every form that sets a password: `password` and `confirm_password`.

    Subclass it and add your own fields, for example::

        class ResetPasswordForm(NewPasswordForm):
            pass

        class RegistrationForm(NewPasswordForm):
            given_name = StringField(...)
            password = new_password_field(_l("Create a password"))  # another label, same rules

    In the view, after ``form.validate_on_submit()``, call ``check_new_password_fields`` with
    the person's email and names; render the fields with ``new_password_fields`` from
    ``templates/_macros/password.html``, which shows the rules checklist.
    """

    password = new_password_field()
    confirm_password = confirm_password_field()


def _error_list(field: Field) -> list:
    # Before validate() WTForms leaves errors as a tuple; make it a list we can add to.
    if not isinstance(field.errors, list):
        field.errors = list(field.errors)
    return field.errors


def check_new_password_fields(
    form: NewPasswordForm,
    account_service: AccountService,
    *,
    email: str | None,
    given_name: str | None,
    family_name: str | None,
) -> bool:
    """Check form.password against the policy and form.confirm_password against it.

    Appends one translated message per refused rule to form.password.errors, or "The two
    passwords do not match." to form.confirm_password.errors; returns True when both are
    fine. A field that already has errors (empty, over the cap) is left as it is. Call it
    after ``form.validate_on_submit()``; a typical view::

        if form.validate_on_submit() and check_new_password_fields(
            form, service, email=user.email, given_name=user.given_name, family_name=user.family_name
        ):
            service.set_password(user, form.password.data)
            db.session.commit()

    The person's address and names are what the password must not contain (ASVS 6.2.11).
    """
    password_errors = _error_list(form.password)
    confirm_errors = _error_list(form.confirm_password)
    if not password_errors:
        try:
            account_service.check_new_password(
                form.password.data or "", email=email, given_name=given_name, family_name=family_name
            )
        except WeakPassword as error:
            policy = account_service.password_policy
            password_errors.extend(describe_problem(problem, policy) for problem in error.problems)
    if not password_errors and not confirm_errors:
        # Compared as they would be hashed: "é" typed two ways is one password.
        if normalize_password(form.confirm_password.data or "") != normalize_password(form.password.data or ""):
            confirm_errors.append(str(MISMATCH))
    return not (password_errors or confirm_errors)


# The account home's forms (issue 3, Account home).


class ChangePasswordForm(NewPasswordForm):
    """The current password, then the new one twice (ASVS 6.2.3)."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[
            InputRequired(message=_l("Enter your current password.")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("Your current password is incorrect.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    password = new_password_field(_l("New password"))
    confirm_password = confirm_password_field(_l("Confirm your new password"))


class EndOtherSessionsForm(FlaskForm):
    """Only the CSRF token: "sign out everywhere else" changes state, so it is a POST."""


class UnlockForm(FlaskForm):
    """The unlock page's button: only the CSRF token (a GET never unlocks: mail scanners
    open links)."""
