"""Helpers for the registration tests: invitations made and mailed through the real
services, and reading what a person reads in each email."""

from __future__ import annotations

import re
from email.message import EmailMessage

from idp.context import app_context
from idp.extensions import db
from idp.invitations.services import InvitationService
from idp.mail.delivery import deliver, get_mail_service
from tests.mail_support import path_of_link, text_body

# Meets the default policy (14+ characters, special, digit, upper, lower), not common, and
# contains neither "Zoé", "Citoyenne" nor the address.
PASSWORD = "Lanterne-Boréale-2049"
EMAIL = "zoe@example.ca"
_INVITATION_CODE = re.compile(r"\b[A-HJKMNP-Z2-9]{4}(?:-[A-HJKMNP-Z2-9]{4}){3}\b")
_CSRF = re.compile(r'name="([\w-]*csrf_token)" type="hidden" value="([^"]+)"')


def invite(app, *, kind: str = "link", email: str = EMAIL, locale: str = "fr", client_id: str | None = None,
           given_name: str | None = "Zoé", family_name: str | None = "Citoyenne") -> int:
    """Create an invitation as an operator (or a client) would and send its email now."""
    with app.app_context():
        ctx = app_context()
        service = InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher)
        invitation, secret = service.create(
            email=email, kind=kind, locale=locale, given_name=given_name, family_name=family_name,
            inviter_name="École Imaginaire", purpose=None,
            created_by_kind="client" if client_id else "operator", created_by_id=client_id or "ops",
            client_id=client_id,
        )
        message = service.send(invitation, secret, get_mail_service())
        db.session.commit()
        assert deliver([message.id]) == (1, 0)
        return invitation.id


def invitation_link(mailbox, email: str = EMAIL) -> str:
    """The path of the "Sign up" link in the invitation email."""
    return path_of_link(mailbox.wait_for(email), "/register/invitation/")


def invitation_code(message: EmailMessage) -> str:
    match = _INVITATION_CODE.search(text_body(message))
    assert match, text_body(message)
    return match.group(0)


def csrf_fields(html: str) -> dict[str, str]:
    """Every CSRF token of the page by field name (a prefixed form has its own name)."""
    return dict(_CSRF.findall(html))


def csrf(html: str) -> str:
    return csrf_fields(html)["csrf_token"]


def reach_almost_there(app, client, mailbox, email: str = EMAIL, locale: str = "en") -> None:
    """Invite, fill the link form and press the activation button: the browser is on "Almost there"."""
    from tests.mail_support import path_of_link

    invite(app, locale=locale, email=email)
    path = invitation_link(mailbox, email)
    page = client.get(path)
    sent = client.post(path, data={"csrf_token": csrf(page.text), "given_name": "Zoé",
                                   "family_name": "Citoyenne", "email": email})
    assert sent.status_code == 303, sent.text
    activate = path_of_link(mailbox.wait_for(email, count=2), "/register/activate/")
    shown = client.get(activate)
    assert client.post(activate, data={"csrf_token": csrf(shown.text)}).status_code == 303
