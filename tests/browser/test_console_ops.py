"""The console's keys, mail and audit pages in real Chromium (issue 16), French and English,
axe-core on each: an operator signs in with a security key (Chromium's virtual
authenticator), rotates the signing keys with a reason, sends a dead letter again, and
filters the audit log down to that rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_console import AGENT, agent_page, console_sign_in  # noqa: F401  (fixture)
from tests.browser.test_security_key import localhost_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

TEXT = {
    "fr": {
        "keys": "Clés de signature", "rotate": "Renouveler les clés de signature", "reason": "Raison",
        "rotated": "De nouvelles clés sont publiées.", "next": "Prochaine (publiée, ne signe pas encore)",
        "mail": "File d’envoi des courriels", "dead": "Messages en rebut", "retry": "Renvoyer le message",
        "queued": "Le message est de nouveau dans la file d’envoi.",
        "audit": "Journal d’audit", "type": "Type d’événement", "show": "Afficher les événements",
        "since": "À partir de (UTC, inclus)", "bad_time": "Entrez une date comme 2026-12-01",
    },
    "en": {
        "keys": "Signing keys", "rotate": "Rotate the signing keys", "reason": "Reason",
        "rotated": "New keys are published.", "next": "Next (published, not signing yet)",
        "mail": "Mail outbox", "dead": "Dead letters", "retry": "Send the message again",
        "queued": "The message is queued again.",
        "audit": "Audit log", "type": "Event type", "show": "Show the events",
        "since": "From (UTC, included)", "bad_time": "Enter a date like 2026-12-01",
    },
}


def make_operator_and_a_dead_letter(app) -> int:
    from sqlalchemy import select

    from idp.accounts.models import User
    from idp.console.roles import OPERATOR, RoleService
    from idp.context import app_context
    from idp.extensions import db
    from idp.mail.delivery import get_mail_service
    from idp.mail.models import OutboxState

    with app.app_context():
        clock = app_context().clock
        RoleService(db.session, clock).grant(db.session.scalar(select(User).where(User.email == AGENT)), OPERATOR)
        message = get_mail_service().enqueue(
            to="lea.tremblay@example.ca", template="two-factor-reset", locale="fr",
            context={"given_name": "Léa", "reset_at": clock().isoformat(), "account_url": "http://localhost/account"})
        message.state, message.attempts, message.failed_at = OutboxState.FAILED, 12, clock() - timedelta(hours=2)
        message.last_error, message.smtp_code = "550 5.1.1 <l***@example.ca>: no such user", 550
        db.session.commit()
        return message.id


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_operator_rotates_keys_retries_mail_and_reads_the_audit_log(agent_page, localhost_server, axe, locale):  # noqa: F811
    page, text = agent_page, TEXT[locale]
    letter = make_operator_and_a_dead_letter(localhost_server.app)
    console_sign_in(page, locale)
    nav = page.get_by_role("navigation", name="Console")

    nav.get_by_role("link", name=text["keys"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["keys"])
    axe.assert_accessible(page, f"the signing keys ({locale})")
    page.get_by_role("link", name=text["rotate"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["rotate"])
    axe.assert_accessible(page, f"rotating the keys ({locale})")
    page.get_by_role("button", name=text["rotate"], exact=True).click()  # no reason
    expect(page.get_by_role("alert")).to_be_visible()
    axe.assert_accessible(page, f"rotating the keys with an error ({locale})")
    page.get_by_label(text["reason"], exact=True).fill("Rotation annuelle prévue")
    page.get_by_role("button", name=text["rotate"], exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(text["rotated"])
    expect(page.get_by_text(text["next"]).first).to_be_visible()
    axe.assert_accessible(page, f"the keys after a rotation ({locale})")

    nav.get_by_role("link", name=text["mail"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["mail"])
    expect(page.get_by_role("heading", level=2, name=text["dead"])).to_be_visible()
    expect(page.get_by_text("l***@example.ca").first).to_be_visible()
    expect(page.get_by_text("lea.tremblay@example.ca")).to_have_count(0)
    axe.assert_accessible(page, f"the mail outbox ({locale})")
    page.locator(f'a[href="/admin/mail/{letter}/retry"]').click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["retry"])
    axe.assert_accessible(page, f"sending a message again ({locale})")
    page.get_by_label(text["reason"], exact=True).fill("Adresse corrigée par la personne")
    page.get_by_role("button", name=text["retry"], exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(text["queued"])
    axe.assert_accessible(page, f"the outbox after a retry ({locale})")

    nav.get_by_role("link", name=text["audit"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["audit"])
    axe.assert_accessible(page, f"the audit log ({locale})")
    page.get_by_label(text["since"], exact=True).fill("hier")
    page.get_by_role("button", name=text["show"], exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(text["bad_time"])
    axe.assert_accessible(page, f"the audit log with an error ({locale})")
    page.get_by_label(text["since"], exact=True).fill("")
    page.get_by_label(text["type"], exact=True).select_option("console:keys:rotated")
    page.get_by_role("button", name=text["show"], exact=True).click()
    expect(page.get_by_text("Rotation annuelle prévue")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    axe.assert_accessible(page, f"the audit log filtered ({locale})")
