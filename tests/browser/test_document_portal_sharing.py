"""The document portal's sharing journey in real Chromium, French and English, axe-core on each
page (issue 13): a learner already signed in to the portal (their portal session opened as the
callback does) views and verifies a document, shares it, a third party opens the link in a
fresh browser and sees "valid", the learner revokes and the link is dead. The whole journey,
from the school's issue through Passerelle's registration, is test_document_portal.py's."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser

from clients.document_portal.signing.demo_pki import make_demo_pki
from clients.document_portal.web import SESSION_TOKEN_KEY
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.document_portal_learner_journey import (
    learner_views_verifies_shares_and_revokes,
)
from tests.document_portal_learner_support import build_app, issue, open_session
from tests.support import FrozenClock, LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def portal(tmp_path) -> Iterator[LiveServer]:
    server = LiveServer()
    app = build_app(tmp_path / "portal.db", make_demo_pki(tmp_path / "pki"), FrozenClock(), origin=server.url)
    # pyHanko signs through asyncio.run, which Playwright's running loop forbids in this thread.
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(issue, app).result()
    server.start(app)
    yield server
    server.stop()


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_learner_shares_a_document_and_revokes_the_link(browser: Browser, portal, axe, locale):
    app = portal.app
    token = open_session(app)
    with app.test_request_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_TOKEN_KEY: token})
    context = browser.new_context(locale="fr-CA" if locale == "fr" else "en-CA", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": portal.url}])
    try:
        learner_views_verifies_shares_and_revokes(browser, context.new_page(), portal.url, axe, locale)
    finally:
        context.close()
