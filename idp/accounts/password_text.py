"""The words of the password policy: one message per refused rule, and the checklist labels.

The rules themselves live in idp/security/password_policy.py; this module only says them,
in the person's language. Messages carry the policy's numbers as named placeholders.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from idp.context import app_context
from idp.security.password_policy import PasswordPolicy, PasswordProblem
from idp.security.unicode_forms import INVISIBLE_JS_PATTERN

PASSWORD_PROBLEM_MESSAGES: dict[PasswordProblem, LazyString] = {
    PasswordProblem.TOO_SHORT: _l("Your password must have at least %(min)s characters."),
    PasswordProblem.TOO_LONG: _l("Your password must have no more than %(max)s characters."),
    PasswordProblem.NO_SPECIAL: _l(
        "Your password must have at least one special character, such as a space or one of ! ? # $ & * -."
    ),
    PasswordProblem.NO_DIGIT: _l("Your password must have at least one digit (0 to 9)."),
    PasswordProblem.NO_UPPER: _l("Your password must have at least one uppercase letter."),
    PasswordProblem.NO_LOWER: _l("Your password must have at least one lowercase letter."),
    PasswordProblem.COMMON: _l(
        "This password is too common or has appeared in a data breach: choose a password nobody else would guess."
    ),
    PasswordProblem.PERSONAL: _l(
        "Your password must not contain your name, your email address or the name of this service."
    ),
    PasswordProblem.GUESSABLE: _l(
        "This password would be too easy to guess. Avoid common words and names, dates, sequences such as"
        " abc or 1234, repeated characters and keyboard patterns; several unrelated words are harder to guess."
    ),
    PasswordProblem.BREACHED: _l(
        "This password appears in a list of passwords exposed in data breaches, so attackers try it first."
        " Choose a different password."
    ),
}

MISMATCH = _l("The two passwords do not match.")
REQUIRED = _l("Enter a password.")
CONFIRM_REQUIRED = _l("Enter your password again.")

# Checklist labels, keyed by PasswordRule.key.
RULE_LABELS: dict[str, LazyString] = {
    "length": _l("Between %(min)s and %(max)s characters"),
    str(PasswordProblem.NO_SPECIAL): _l("At least one special character, such as a space or ! ? # $ & * -"),
    str(PasswordProblem.NO_DIGIT): _l("At least one digit (0 to 9)"),
    str(PasswordProblem.NO_UPPER): _l("At least one uppercase letter"),
    str(PasswordProblem.NO_LOWER): _l("At least one lowercase letter"),
    str(PasswordProblem.COMMON): _l("Not a common password (checked when you submit the form)"),
    str(PasswordProblem.PERSONAL): _l("Does not contain your name or email address (checked when you submit the form)"),
    str(PasswordProblem.GUESSABLE): _l("Hard to guess (checked when you submit the form)"),
}

# Shared by templates/_macros/password.html; Babel skips templates/_macros, so they live here.
PASSWORD_TEXT = {
    "rules_title": _l("Password requirements:"),
    "rule_met": _l("(done)"),
    "rule_unmet": _l("(not yet)"),
    # Announced politely a moment after the person stops typing; %(met)s and %(total)s are
    # filled in by idp/static/js/password-rules.js.
    "summary": _l("Password requirements met: %(met)s of %(total)s."),
    "show_password": _l("Show password"),
    "hide_password": _l("Hide password"),
}


def describe_problem(problem: PasswordProblem, policy: PasswordPolicy) -> str:
    """The translated message for one refused rule, with the policy's numbers in it."""
    return str(PASSWORD_PROBLEM_MESSAGES[problem]) % {"min": policy.min_length, "max": policy.max_length}


def password_rule_labels(policy: PasswordPolicy) -> list[tuple[str, str]]:
    """(rule key, translated label) for each checklist line this policy shows, in order."""
    numbers = {"min": policy.min_length, "max": policy.max_length}
    return [(rule.key, str(RULE_LABELS[rule.key]) % numbers) for rule in policy.rules()]


def current_password_policy() -> PasswordPolicy:
    """The policy of the running app, from its settings (the views' and templates' view of it)."""
    return PasswordPolicy.from_settings(app_context().settings)


def init_app(app: Flask) -> None:
    """Let templates/_macros/password.html reach the policy and its words."""
    app.jinja_env.globals.update(
        password_text=PASSWORD_TEXT,
        password_policy=current_password_policy,
        password_rule_labels=password_rule_labels,
        password_invisible_pattern=INVISIBLE_JS_PATTERN,
    )
