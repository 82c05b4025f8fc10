"""Context for rendering each registration page and email outside its view (the
every-template-renders test in tests/unit/test_translations.py)."""

from __future__ import annotations


def registration_template_contexts() -> dict:
    from types import SimpleNamespace

    from flask_babel import get_locale

    from idp.registration.forms import (
        AlmostThereForm,
        CodeRegistrationForm,
        ConfirmCodeForm,
        ConfirmEmailForm,
        InvitationForm,
        NewCodeForm,
    )
    from idp.web.text import EMAIL_TEXT

    invitation = SimpleNamespace(inviter_name="École Imaginaire", email="zoe@example.ca")
    user = SimpleNamespace(email="zoe@example.ca", given_name="Zoé", family_name="Citoyenne")

    def email(**extra):
        return lambda: {"issuer": "http://127.0.0.1:5000", "help_url": "http://127.0.0.1:5000/help",
                        "locale": str(get_locale()), "email_text": EMAIL_TEXT, "given_name": "Zoé", **extra}

    emails = {
        "activation": email(activation_url="http://127.0.0.1:5000/register/activate/token", valid_hours=24,
                            cant_sign_in_url="http://127.0.0.1:5000/signin/help"),
        "registration-code": email(code="123456", valid_minutes=30, confirm_url="http://127.0.0.1:5000/register/confirm"),
        "account-exists": email(signin_url="http://127.0.0.1:5000/signin",
                                cant_sign_in_url="http://127.0.0.1:5000/signin/help"),
    }
    return {
        "registration/invitation.html": lambda: {"form": InvitationForm(), "invitation": invitation},
        "registration/check_email.html": lambda: {"email": "zoe@example.ca", "activation_hours": 24},
        "registration/activate.html": lambda: {"form": ConfirmEmailForm(), "email": "zoe@example.ca"},
        "registration/password.html": lambda: {"form": AlmostThereForm(), "user": user, "invitation": invitation},
        "registration/code.html": lambda: {"form": CodeRegistrationForm(), "client": SimpleNamespace(name="Portail")},
        "registration/confirm.html": lambda: {
            "form": ConfirmCodeForm(), "new_code_form": NewCodeForm(prefix="new-code"), "registration": invitation,
            "notice": "wait", "wait_seconds": 12, "cooldown": 30, "code_minutes": 30, "code_tries": 5,
        },
        "registration/confirmed.html": lambda: {"email": "zoe@example.ca"},
        "registration/problem.html": lambda: {"problem": "activation_expired", "step": "activate", "reason": None},
        "registration/_consent.html": lambda: {"field": AlmostThereForm().accept_terms},
        "registration/_side_panel.html": lambda: {"inviter_name": "École Imaginaire"},
        **{f"email/{name}/{part}": context for name, context in emails.items()
           for part in ("subject.txt", "body.txt", "body.html")},
    }
