"""Contexts for the two-factor templates, for the every-template test (tests/unit/test_translations.py)."""

from __future__ import annotations


def mfa_template_contexts() -> dict:
    from types import SimpleNamespace

    from flask_babel import get_locale

    from idp.mfa import totp
    from idp.mfa.account_recovery import LostMethods
    from idp.mfa.enrolment import Status
    from idp.mfa.security_key import KeySummary
    from idp.mfa.forms import (
        AppCodeForm,
        RecoveryCodeForm,
        ResendCodeForm,
        SecurityKeyForm,
        SecurityKeySetupForm,
        SetupChoiceForm,
    )
    from idp.web.text import EMAIL_TEXT

    codes = ["ABCD-2345-WXYZ", "EFGH-6789-QRST"]

    def email(**extra):
        return lambda: {
            "issuer": "http://127.0.0.1:5000", "help_url": "http://127.0.0.1:5000/help",
            "locale": str(get_locale()), "email_text": EMAIL_TEXT, "given_name": "Ana",
            "account_url": "http://127.0.0.1:5000/account", **extra,
        }

    return {
        **{f"email/mfa-set-up/{name}": email(method="totp", set_up_at="2026-12-03T19:00:00+00:00")
           for name in ("subject.txt", "body.txt", "body.html")},
        **{f"email/mfa-changed/{name}": email(change="removed", method="totp", changed_at="2026-12-03T19:00:00+00:00")
           for name in ("subject.txt", "body.txt", "body.html", "what.txt")},
        **{f"email/recovery-code-used/{name}": email(used_at="2026-12-03T19:00:00+00:00", remaining=9)
           for name in ("subject.txt", "body.txt", "body.html")},
        "mfa/manage.html": lambda: {
            "user": SimpleNamespace(mfa_default_factor="totp"), "methods": ["totp", "webauthn", "email_code"],
            "available": [], "keys": [KeySummary(1, "Blue key", False, 1), KeySummary(2, None, True, 2)],
            "status": Status(True, ("totp", "email_code"), "totp", 10, False), "form": ResendCodeForm(),
            "notices": [("error", "No.")],
        },
        "mfa/app_code.html": lambda: {"form": AppCodeForm()},
        "mfa/stronger_method.html": lambda: {"form": ResendCodeForm()},
        "mfa/methods.html": lambda: {
            "factors": [SimpleNamespace(name="webauthn", endpoint="mfa.security_key"),
                        SimpleNamespace(name="totp", endpoint="mfa.authenticator_app"),
                        SimpleNamespace(name="email_code", endpoint="mfa.email_code")],
            "can_recover": True,
        },
        **{f"email/account-recovered/{name}": email(
            recovered_at="2026-12-03T19:00:00+00:00", has_app=True, has_email_code=True, remaining=9,
            keys=[{"nickname": "Blue key", "is_passkey": False, "number": 1}, {"nickname": None, "is_passkey": True, "number": 2}],
        ) for name in ("subject.txt", "body.txt", "body.html")},
        "mfa/recover.html": lambda: {
            "form": RecoveryCodeForm(), "can_recover": True,
            "lost": LostMethods(has_app=True, keys=(KeySummary(1, "Blue key", False, 1),), has_email_code=True),
        },
        "mfa/setup.html": lambda: {"form": SetupChoiceForm(), "methods": ["webauthn", "totp", "email_code"]},
        "mfa/security_key.html": lambda: {"form": SecurityKeyForm()},
        "mfa/setup_security_key.html": lambda: {"form": SecurityKeySetupForm()},
        "mfa/setup_app.html": lambda: {
            "form": AppCodeForm(), "secret": "ABCD EFGH IJKL MNOP",
            "qr_svg": totp.qr_svg("otpauth://totp/Passerelle:ana?secret=ABCD", title="QR"),
        },
        "mfa/recovery_codes.html": lambda: {"codes": codes, "download": "\r\n".join(codes), "form": ResendCodeForm()},
    }
