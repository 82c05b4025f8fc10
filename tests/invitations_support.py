"""Helpers for the invitations tests: an API client with a real client_credentials token."""

from __future__ import annotations

from tests.oidc_support import RegisteredClient, basic_auth, make_client


def make_api_client(app, scope: str = "openid invitations", **options) -> RegisteredClient:
    """A confidential client allowed client_credentials (and, by default, the invitations scope)."""
    options.setdefault("name", "École Imaginaire")
    return make_client(
        app, grant_types=("client_credentials",), redirect_uris=(), post_logout_redirect_uris=(), scope=scope, **options
    )


def access_token(client, rp: RegisteredClient, scope: str | None = "invitations") -> str:
    """An access token from /token (client_credentials), as a relying party gets one."""
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    response = client.post("/token", data=data, headers=basic_auth(rp))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def invitation_email_contexts() -> dict:
    """Context for rendering each invitation email template outside the outbox (the
    every-template-renders test in tests/unit/test_translations.py), as render_email gives."""
    from flask_babel import get_locale

    from idp.web.text import EMAIL_TEXT

    def context(**extra):
        return lambda: {
            "issuer": "http://127.0.0.1:5000",
            "help_url": "http://127.0.0.1:5000/help",
            "locale": str(get_locale()),
            "email_text": EMAIL_TEXT,
            "given_name": "Zoé",
            "family_name": "Citoyenne",
            "email": "zoe@example.ca",
            "inviter_name": "École Imaginaire",
            "purpose": "Un relevé de notes numérisé vous a été transmis.",
            "expires_at": "2026-07-01T15:30:00+00:00",
            "has_account": False,
            **extra,
        }

    def document(**extra):
        return context(document_type="Relevé de notes numérisé", feminine=False, issuer_name="École Imaginaire",
                       contact_email="info@ecole-imaginaire.ca", faq_url="https://documents.example.ca/faq", **extra)

    signup = document(signup_url="http://127.0.0.1:5000/register/invitation/token")
    available = document(open_url="http://127.0.0.1:5000/invitations/open/token")
    link = context(signup_url="http://127.0.0.1:5000/register/invitation/token")
    code = context(code="ABCD-EFGH-JKMN-PQRS", code_url="http://127.0.0.1:5000/register/code")
    names = ("subject.txt", "body.txt", "body.html")
    return {
        **{f"email/invitation-link/{name}": link for name in names},
        **{f"email/invitation-code/{name}": code for name in names},
        **{f"email/invitation/{name}": link for name in ("_intro.txt", "_intro.html", "_closing.txt", "_closing.html")},
        "email/invitation/_subject.txt": context(has_account=True, signin_url="http://127.0.0.1:5000/account"),
        **{f"email/document-invitation/{name}": signup for name in names},
        **{f"email/document-available/{name}": available for name in names},
        **{f"email/document/{name}": signup for name in ("_intro.txt", "_intro.html", "_closing.txt", "_closing.html",
                                                          "_sent_by.txt")},
        "invitations/continue.html": lambda: {"return_url": "https://documents.example.ca/documents/42"},
    }
