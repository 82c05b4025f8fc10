"""Every email's HTML body, in both languages, under the same axe-core run as the pages
(WCAG 2.2 A/AA), with a main landmark and one level-one heading (issue 9, item 21).

The bodies are rendered by the real render_email with the contexts the template tests use
(tests/unit/test_translations.py), then loaded into Chromium with page.set_content.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.unit.test_translations import _idp_contexts, all_templates, is_fragment

pytestmark = pytest.mark.browser

# What render_email adds itself (idp/mail/delivery.py).
COMMON_KEYS = {"issuer", "help_url", "locale", "email_text"}
EMAILS = sorted(
    name.split("/")[1] for name in all_templates()
    if name.startswith("email/") and name.endswith("/body.html") and not is_fragment(name)
)


@pytest.fixture(scope="module")
def mail_app(tmp_path_factory):
    from tests.catalogs import compile_catalogs
    from tests.conftest import build_app
    from tests.support import FrozenClock

    compile_catalogs()
    return build_app(f"sqlite:///{tmp_path_factory.mktemp('emails') / 'emails.sqlite3'}", FrozenClock())


@pytest.fixture
def mail_page(browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def email_html(app, email: str, locale: str) -> tuple[str, str]:
    """(subject, HTML body) of one email as the outbox would send it."""
    from idp.mail.delivery import render_email

    with app.test_request_context("/"):
        context = _idp_contexts().get(f"email/{email}/body.html", dict)()
        subject, _text, html = render_email(email, locale, {k: v for k, v in context.items() if k not in COMMON_KEYS})
    return subject, html


def test_every_email_is_checked():
    assert len(EMAILS) >= 10 and "signin-code" in EMAILS and "invitation-link" in EMAILS


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("email", EMAILS)
def test_email_body_has_a_main_landmark_a_heading_and_passes_axe(mail_app, mail_page, axe, email, locale):
    _subject, html = email_html(mail_app, email, locale)

    mail_page.set_content(html)

    expect(mail_page.locator("html")).to_have_attribute("lang", locale)
    expect(mail_page.get_by_role("main")).to_have_count(1)
    heading = mail_page.get_by_role("heading", level=1)
    expect(heading).to_have_count(1)
    assert heading.inner_text().strip() == mail_page.title().strip(), "the heading says what the title says"
    axe.assert_accessible(mail_page, f"the {email} email ({locale})")
