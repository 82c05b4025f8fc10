"""The institution portal's home in real Chromium, French and English, axe-core on each: the
province, the open reporting period and its deadline, and an institution in Quebec told it
has no period. The person's portal session is planted (the sign-in journey is
test_institution_portal.py's); the reminder emails' journey is an integration test
(tests/integration/institution_portal/test_periods.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from clients.institution_portal.auth.services import SessionService
from clients.institution_portal.claims import Identity
from clients.institution_portal.db import db as portal_db
from clients.institution_portal.institutions.services import InstitutionService
from clients.institution_portal.periods.services import PeriodService
from clients.institution_portal.terms.services import TermsService
from clients.institution_portal.web import SESSION_TOKEN_KEY
from tests.browser.conftest import TIMEOUT_MS
from tests.institution_portal_periods_support import Org, build_portal_with_clock
from tests.support import FrozenClock, LiveServer

pytestmark = pytest.mark.browser

TEXT = {
    "fr": {"province": "Ontario", "period": "Le rapport de votre établissement doit être soumis au plus tard "
                                            "le 31 décembre 2026.",
           "quebec": "Québec", "exempt": "ne produisent pas leurs rapports dans ce portail (Québec)"},
    "en": {"province": "Ontario", "period": "Your institution's report is due by December 31, 2026.",
           "quebec": "Quebec", "exempt": "Institutions in Quebec do not report through this portal"},
}


@pytest.fixture
def portal(tmp_path) -> Iterator[SimpleNamespace]:
    server = LiveServer()
    clock = FrozenClock(datetime(2026, 11, 20, 14, tzinfo=UTC))
    app = build_portal_with_clock("http://127.0.0.1:5000", SimpleNamespace(client_id="c", client_secret="s"),
                                  tmp_path / "portal.db", clock, PORTAL_BASE_URL=server.url)
    server.start(app)
    yield SimpleNamespace(app=app, url=server.url, clock=clock)
    server.stop()


def signed_in_cookie(portal, province: str) -> dict:
    """A primary user of an institution in `province`, with the portal's terms accepted: the
    portal's session cookie as a finished sign-in leaves it."""
    app = portal.app
    ctx = app.extensions["institution_portal"]
    with app.app_context():
        institutions = InstitutionService(portal_db.session, portal.clock)
        institutions.sync([Org("dli-1", "O123456789012")])
        institutions.set_province("O123456789012", province)
        PeriodService(portal_db.session, ctx.settings, portal.clock).open_due_periods()
        identity = Identity(sub="pairwise-1", acr="urn:passerelle:acr:mfa", organization_id="dli-1",
                            organization_number="O123456789012", organization_name_fr="Collège Imaginaire",
                            organization_name_en="Imaginary College", role="primary")
        token = SessionService(portal_db.session, ctx.settings, portal.clock).open(identity, "id-token")
        TermsService(portal_db.session, ctx.settings, portal.clock).accept("pairwise-1")
        portal_db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session[SESSION_TOKEN_KEY] = token
    cookie = client.get_cookie(ctx.settings.PORTAL_SESSION_COOKIE_NAME)
    return {"name": cookie.key, "value": cookie.value, "url": portal.url}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_home_shows_the_province_the_period_and_its_deadline(browser, portal, axe, locale):
    text = TEXT[locale]
    context = browser.new_context(locale=f"{locale}-CA")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([signed_in_cookie(portal, "ON")])
    page = context.new_page()
    try:
        page.goto(portal.url + "/")
        expect(page.locator("html")).to_have_attribute("lang", locale)
        expect(page.locator("#province")).to_have_text(text["province"])
        expect(page.locator("#reporting-period")).to_contain_text(text["period"])
        axe.assert_accessible(page, f"portal home with a period ({locale})")
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_home_tells_an_institution_in_quebec_it_has_no_period(browser, portal, axe, locale):
    text = TEXT[locale]
    context = browser.new_context(locale=f"{locale}-CA")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([signed_in_cookie(portal, "QC")])
    page = context.new_page()
    try:
        page.goto(portal.url + "/")
        expect(page.locator("#province")).to_have_text(text["quebec"])
        expect(page.locator("#reporting-period")).to_contain_text(text["exempt"])
        axe.assert_accessible(page, f"portal home in Quebec ({locale})")
    finally:
        context.close()
