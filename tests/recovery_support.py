"""Contexts for rendering the recovery and account-home templates outside their views (the
every-template-renders test in tests/unit/test_translations.py), as the views and
render_email give them."""

from __future__ import annotations


def recovery_template_contexts() -> dict:
    from flask_babel import get_locale

    from idp.accounts.forms import ChangePasswordForm, EndOtherSessionsForm
    from idp.accounts.models import User
    from idp.accounts.session_views import SessionRow
    from idp.accounts.views import EventRow
    from idp.mfa.enrolment import Status
    from idp.recovery.forms import CantSignInForm, ResetPasswordForm
    from idp.signin.forms import SignoutForm
    from idp.web.text import EMAIL_TEXT

    user = User(given_name="Ana", family_name="Tremblay", email="ana@example.ca", phone_number="+15145550100",
                locale="fr")

    def email(**extra):
        return lambda: {
            "issuer": "http://127.0.0.1:5000",
            "help_url": "http://127.0.0.1:5000/help",
            "locale": str(get_locale()),
            "email_text": EMAIL_TEXT,
            "given_name": "Ana",
            "cant_sign_in_url": "http://127.0.0.1:5000/signin/help",
            **extra,
        }

    reset = email(reset_url="http://127.0.0.1:5000/signin/reset/token", ttl_minutes=60)
    changed = email(changed_at="2026-11-23T18:52:00+00:00", by_reset=True, account_url="http://127.0.0.1:5000/account")
    names = ("subject.txt", "body.txt", "body.html")
    return {
        "accounts/account.html": lambda: {
            "user": user, "phone": "+1 514-555-0100", "language": "Français", "notices": ["Done."],
            "events": [EventRow("Signed in", "23 novembre 2026 à 18:52:00 UTC", "192.0.2.1")],
            "form": SignoutForm(),
            "two_factor": Status(True, ("totp", "email_code"), "totp", 2, True),
        },
        "accounts/password.html": lambda: {"form": ChangePasswordForm(), "user": user},
        "accounts/sessions.html": lambda: {
            "sessions": [SessionRow("Chrome on Linux", "23 Nov 2026", "23 Nov 2026", True)],
            "has_others": True, "notices": [], "form": EndOtherSessionsForm(),
        },
        "recovery/cant_sign_in.html": lambda: {"form": CantSignInForm()},
        "recovery/help_sent.html": lambda: {"email": "ana@example.ca"},
        "recovery/reset.html": lambda: {"form": ResetPasswordForm(), "user": user},
        "recovery/reset_invalid.html": lambda: {"message": "This link does not work."},
        **{f"email/password-reset/{name}": reset for name in names},
        **{f"email/password-changed/{name}": changed for name in names},
    }
