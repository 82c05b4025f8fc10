"""The invitation emails as people receive them: over real SMTP, in French and English."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from idp.accounts.services import AccountService
from idp.context import app_context
from idp.extensions import db
from idp.invitations.services import InvitationService
from idp.mail.delivery import deliver, get_mail_service
from tests.mail_support import html_body, links_in, text_body

# A fixed moment, so the expiry date in the email is known: 14 days later is 2026-07-01 15:30 UTC.
CREATED_AT = datetime(2026, 6, 17, 15, 30, tzinfo=UTC)


@pytest.fixture
def clock(clock):
    clock.now = CREATED_AT
    return clock


def send_invitation(app, *, kind="link", locale="fr", has_account=False, **extra):
    """Create an invitation the way the API does, send it, return the plain secret."""
    with app.app_context():
        ctx = app_context()
        if has_account:
            AccountService(db.session, ctx.settings, ctx.clock, ctx.passwords).create_user(
                "zoe@example.ca", "Zoé", "Citoyenne", "a password")
        service = InvitationService(db.session, ctx.settings, ctx.clock, ctx.hasher)
        values = {"given_name": "Zoé", "family_name": "Citoyenne", "inviter_name": "École Imaginaire",
                  "purpose": "Un relevé de notes numérisé vous a été transmis.", **extra}
        invitation, secret = service.create(email="zoe@example.ca", kind=kind, locale=locale,
                                            created_by_kind="operator", created_by_id="ops", **values)
        message = service.send(invitation, secret, get_mail_service())
        db.session.commit()
        assert deliver([message.id]) == (1, 0)
        return secret


def test_link_invitation_in_french(app, mailbox):
    token = send_invitation(app)
    message = mailbox.wait_for("zoe@example.ca")
    assert message["Subject"] == "École Imaginaire vous invite à créer votre compte Passerelle"
    assert message["Content-Language"] == "fr"
    text = text_body(message)
    assert "Bonjour Zoé Citoyenne," in text
    assert "École Imaginaire vous invite à créer un compte Passerelle" in text
    assert "Un relevé de notes numérisé vous a été transmis." in text
    assert f"M'inscrire : http://127.0.0.1:5000/register/invitation/{token}" in text
    assert "Cette invitation expire le 1 juillet 2026 à 15:30 (UTC)." in text
    assert "Si vous ne vous attendiez pas à cette invitation, ignorez ce message" in text
    assert "communiquez avec École Imaginaire" in text
    assert "zoe@example.ca" in text  # the address to use in the form
    assert "\n\n\n" not in text  # one blank line between paragraphs, never two
    html = html_body(message)
    assert f'href="http://127.0.0.1:5000/register/invitation/{token}"' in html
    assert "M&#39;inscrire</a>" in html or "M'inscrire</a>" in html
    assert '<html lang="fr">' in html
    assert "1 juillet 2026" in html


def test_link_invitation_in_english(app, mailbox):
    token = send_invitation(app, locale="en", purpose="A digitally signed transcript was sent to you.")
    message = mailbox.wait_for("zoe@example.ca")
    assert message["Subject"] == "École Imaginaire invites you to create your Passerelle account"
    text = text_body(message)
    assert "Hello Zoé Citoyenne," in text
    assert "A digitally signed transcript was sent to you." in text
    assert f"Sign up: http://127.0.0.1:5000/register/invitation/{token}" in text
    assert "This invitation expires on July 1, 2026 at 3:30\u202fPM (UTC)." in text or \
        "This invitation expires on July 1, 2026 at 3:30 PM (UTC)." in text
    assert "If you did not expect this invitation, ignore this message" in text
    assert "replies are not read" in text  # the footer, in English too
    assert ">Sign up</a>" in html_body(message)


@pytest.mark.parametrize(("locale", "words"), [("fr", ("Votre code d'invitation", "Pour vous inscrire, allez à")),
                                               ("en", ("Your invitation code", "To sign up, go to"))])
def test_code_invitation_shows_the_code_and_where_to_enter_it(app, mailbox, locale, words):
    code = send_invitation(app, kind="code", locale=locale)
    message = mailbox.wait_for("zoe@example.ca")
    text = text_body(message)
    assert code in text and len(code) == 19
    for word in words:
        assert word in text
    assert "http://127.0.0.1:5000/register/code" in links_in(message)
    assert "/register/invitation/" not in text
    html = html_body(message)
    assert code in html and "font-size:28px" in html
    assert 'href="http://127.0.0.1:5000/register/code"' in html


def test_without_names_or_purpose_the_greeting_stays_polite(app, mailbox):
    send_invitation(app, locale="en", given_name=None, family_name=None, purpose=None)
    text = text_body(mailbox.wait_for("zoe@example.ca"))
    assert "Hello," in text and "Hello ," not in text and "None" not in text


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_an_address_with_an_account_is_told_to_sign_in_and_gets_no_secret(app, mailbox, locale):
    secret = send_invitation(app, locale=locale, has_account=True)
    message = mailbox.wait_for("zoe@example.ca")
    text = text_body(message)
    assert secret not in text and secret not in html_body(message)
    assert "/register/" not in text
    assert "http://127.0.0.1:5000/account" in links_in(message)
    expected = {"fr": "Vous avez déjà un compte", "en": "You already have an account"}[locale]
    assert expected in text
    assert "\n\n\n" not in text


def test_inviter_and_purpose_are_escaped_in_html(app, mailbox):
    send_invitation(app, inviter_name="<b>École</b>", purpose="<script>alert(1)</script>")
    html = html_body(mailbox.wait_for("zoe@example.ca"))
    assert "<script>" not in html and "<b>École</b>" not in html
    assert "&lt;script&gt;" in html
