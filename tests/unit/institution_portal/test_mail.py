"""The portal's own mail (clients/institution_portal/mail): templates in the person's
language or in French then English, sent over real SMTP to the suite's loopback mailbox."""

from __future__ import annotations

from datetime import date

import pytest

from clients.institution_portal.mail import Mailer, MailNotConfigured, MailNotSent, locales_for, render_email
from tests.institution_portal_mail_support import portal_settings
from tests.mail_support import html_body, text_body
from tests.support import FrozenClock, free_port

CONTEXT = {"institution_name": {"fr": "Collège Imaginaire", "en": "Imaginary College"}, "number": "O123456789012",
           "opens_on": date(2026, 11, 1), "due_on": date(2026, 12, 31), "days_left": 7,
           "portal_url": "http://127.0.0.1:5003", "help_url": "http://127.0.0.1:5003/help"}


def test_a_person_without_a_known_language_gets_french_then_english():
    rendered = render_email("period-opened", locales_for(None), CONTEXT)
    assert rendered.locales == ("fr", "en")
    french, english = rendered.text.split("----------------------------------------")
    assert "31 décembre 2026" in french and "Collège Imaginaire" in french
    assert "December 31, 2026" in english and "Imaginary College" in english
    assert '<div lang="fr">' in rendered.html and '<div lang="en">' in rendered.html
    assert rendered.html.index('lang="fr"') < rendered.html.index('<div lang="en">')


@pytest.mark.parametrize(("locale", "due"), [("fr", "31 décembre 2026"), ("en", "December 31, 2026")])
def test_a_known_language_gets_only_that_language(locale, due):
    rendered = render_email("period-reminder", locales_for(locale), CONTEXT)
    assert rendered.locales == (locale,) and due in rendered.text and " / " not in rendered.subject
    assert "----" not in rendered.text.split("--\n")[0]


def test_the_message_reaches_the_relay_with_text_and_html(mailbox):
    settings = portal_settings()
    mailer = Mailer(settings, FrozenClock())
    mailer.send(mailer.build("primary@college.example.ca", render_email("period-opened", ("en",), CONTEXT)))
    message = mailbox.wait_for("primary@college.example.ca")
    assert message["From"].addresses[0].addr_spec == "no-reply@eed.example.ca"
    assert message["Content-Language"] == "en" and message["Auto-Submitted"] == "auto-generated"
    assert "http://127.0.0.1:5003" in text_body(message) and "December 31, 2026" in html_body(message)


def test_without_a_sender_address_nothing_is_built():
    mailer = Mailer(portal_settings(PORTAL_MAIL_FROM=None), FrozenClock())
    with pytest.raises(MailNotConfigured):
        mailer.build("primary@college.example.ca", render_email("period-opened", ("fr",), CONTEXT))


def test_a_relay_out_of_reach_is_a_retryable_failure():
    mailer = Mailer(portal_settings(PORTAL_SMTP_PORT=free_port()), FrozenClock())
    message = mailer.build("primary@college.example.ca", render_email("period-opened", ("fr",), CONTEXT))
    with pytest.raises(MailNotSent) as raised:
        mailer.send(message)
    assert not raised.value.permanent
