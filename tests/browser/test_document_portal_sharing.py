"""The learner side's pages that the journey of test_document_portal.py does not reach (it runs
document_portal_learner_journey's second half: view, verify, share, revoke), in real Chromium,
French and English, axe-core on each: a withdrawn document, an empty « Mes documents », and
the too-many-attempts page. The learner's portal session is opened as the callback does."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from clients.document_portal.signing.demo_pki import make_demo_pki
from clients.document_portal.web import SESSION_TOKEN_KEY
from tests.browser.conftest import TIMEOUT_MS
from tests.document_portal_learner_support import (
    OTHER,
    build_app,
    issue,
    open_session,
)
from tests.support import FrozenClock, LiveServer

pytestmark = pytest.mark.browser


def serve_portal(tmp_path, **overrides) -> LiveServer:
    server = LiveServer()
    app = build_app(tmp_path / "portal.db", make_demo_pki(tmp_path / "pki"), FrozenClock(), origin=server.url,
                    **overrides)
    # pyHanko signs through asyncio.run, which Playwright's running loop forbids in this thread.
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(issue, app).result()
        worker.submit(issue, app, OTHER, state="withdrawn", withdrawn_at=FrozenClock()(),
                      withdrawal_reason="Émis par erreur").result()
    return server.start(app)


def signed_in(browser: Browser, server: LiveServer, locale: str, sub: str) -> BrowserContext:
    """A browser whose portal session is `sub`'s (opened as the callback does)."""
    app = server.app
    token = open_session(app, sub)
    with app.test_request_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_TOKEN_KEY: token})
    context = browser.new_context(locale="fr-CA" if locale == "fr" else "en-CA", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": server.url}])
    return context


WITHDRAWN_TEXT = {
    "fr": {"withdrawn": "Non valide : l'établissement a retiré ce document.", "none": "Aucun document ne vous a encore été remis",
           "too_many": "Trop de tentatives"},
    "en": {"withdrawn": "Not valid: the school withdrew this document.", "none": "No document has been issued to you yet",
           "too_many": "Too many attempts"},
}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_withdrawn_document_an_empty_list_and_too_many_guesses_pass_axe(browser: Browser, tmp_path, axe, locale):
    server = serve_portal(tmp_path, DOCUMENT_PORTAL_SHARE_ATTEMPTS_LIMIT=1)
    text = WITHDRAWN_TEXT[locale]
    contexts = [signed_in(browser, server, locale, OTHER), signed_in(browser, server, locale, "pairwise-nobody")]
    try:
        learner = contexts[0].new_page()
        learner.goto(f"{server.url}/documents")
        learner.locator("#documents a").first.click()
        expect(learner.locator("#verdict")).to_contain_text(text["withdrawn"])
        axe.assert_accessible(learner, "a withdrawn document")
        nobody = contexts[1].new_page()
        nobody.goto(f"{server.url}/documents")
        expect(nobody.locator("#no-documents")).to_contain_text(text["none"])
        axe.assert_accessible(nobody, "no document yet")
        for _ in range(2):
            nobody.goto(f"{server.url}/s/{'A' * 43}")
        expect(nobody.get_by_role("heading", level=1)).to_have_text(text["too_many"])
        axe.assert_accessible(nobody, "too many attempts")
    finally:
        for context in contexts:
            context.close()
        server.stop()
