"""« Services connectés » and « Se déconnecter partout » in real Chromium, in French and
English (issue 14): a person signs in to a relying party, sees it on the account page, asks
to sign out everywhere, confirms, and lands on a page that says so, whose hidden iframe
loads the relying party's front-channel logout URI with iss and sid; the relying party's
back-channel delivery is queued. axe-core checks every page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from idp.extensions import db
from idp.logout.models import LogoutDelivery
from tests.browser.support import RedirectReceiver, create_client, create_person
from tests.browser.test_account_home import TEXT as ACCOUNT_TEXT
from tests.browser.test_account_home import new_page
from tests.browser.test_recovery import check_page, sign_in
from tests.oidc_support import RegisteredClient, authorization_params

pytestmark = pytest.mark.browser

TEXT = {
    "fr": {**ACCOUNT_TEXT["fr"], "connected": "Services connectés", "everywhere": "Se déconnecter partout",
           "confirm_heading": "Se déconnecter partout?", "done": "Vous êtes déconnecté partout"},
    "en": {**ACCOUNT_TEXT["en"], "connected": "Connected services", "everywhere": "Sign out everywhere",
           "confirm_heading": "Sign out everywhere?", "done": "You are signed out everywhere"},
}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_connected_services_and_sign_out_everywhere(browser, live_server, mailbox, axe, locale):
    text = TEXT[locale]
    person = create_person(live_server.app)
    rp = RedirectReceiver().start()
    client_id, _ = create_client(live_server.app, rp.url, name="Portail des documents",
                                 backchannel_logout_uri="https://documents.example.ca/backchannel-logout",
                                 frontchannel_logout_uri=rp.url, frontchannel_logout_session_required=True)
    page = new_page(browser, live_server, locale)
    try:
        page.goto("/authorize?" + urlencode(authorization_params(RegisteredClient(client_id, None, rp.url))))
        sign_in(page, mailbox, text, person.email, person.password)
        assert "code" in rp.wait(page)
        rp.forget()

        page.goto("/account")
        check_page(page, axe, text["account"], f"the account home with a connected service ({locale})")
        expect(page.get_by_role("heading", level=2, name=text["connected"])).to_be_visible()
        expect(page.get_by_role("listitem").filter(has_text="Portail des documents")).to_be_visible()

        page.get_by_role("link", name=text["everywhere"], exact=True).click()
        check_page(page, axe, text["confirm_heading"], f"sign out everywhere? ({locale})")
        page.get_by_role("button", name=text["everywhere"], exact=True).click()
        check_page(page, axe, text["done"], f"signed out everywhere ({locale})")
        front = rp.wait(page)  # the hidden iframe loaded the front-channel logout URI
        assert front["method"] == "GET" and front["iss"] == live_server.url and front["sid"]
        with live_server.app.app_context():
            assert db.session.scalars(select(LogoutDelivery.client_id)).all() == [client_id]

        page.goto("/account")
        expect(page.get_by_role("heading", level=1)).to_have_text(text["sign_in"])
    finally:
        page.context.close()
        rp.stop()
