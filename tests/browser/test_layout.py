"""Layout at 1280 px in both languages (issue 9, item 19): table headers and button labels on
one line, no word broken in the middle, the registration help panel beside the form, a
favicon on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import create_person
from tests.browser.test_signin import open_signin, submit_signin
from tests.browser.test_two_factor import TEXT as TWO_FACTOR_TEXT
from tests.browser.test_two_factor import accept_terms_if_asked, set_up_app
from tests.integration.registration.support import invite
from tests.mail_support import path_of_link

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 900}
LANGUAGE_COOKIE = "passerelle_lang"

# How many lines an element's text takes: its line boxes, counted by distinct tops.
LINE_COUNT = """(element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    return tops.size;
}"""

# The words cut in two inside an element: a word whose own rectangles sit on two lines.
BROKEN_WORDS = """(element) => {
    const broken = [];
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent;
        const pattern = /\\S+/g;
        for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
            if (tops.size > 1) broken.push(match[0]);
        }
    }
    return broken;
}"""


def speak(page: Page, live_server, locale: str) -> None:
    page.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": locale, "url": live_server.url}])


def lines_of(page: Page, selector: str) -> dict[str, int]:
    """{text: line count} of every element matching the selector."""
    counts = {}
    for element in page.locator(selector).element_handles():
        counts[" ".join(element.inner_text().split())] = element.evaluate(LINE_COUNT)
    assert counts, f"nothing matches {selector}"
    return counts


def assert_one_line(page: Page, selector: str, what: str) -> None:
    several = {text: count for text, count in lines_of(page, selector).items() if count != 1}
    assert not several, f"{what}: on more than one line at {WIDE['width']} px: {several}"


def assert_no_broken_word(page: Page, selector: str, what: str) -> None:
    broken = [word for element in page.locator(selector).element_handles() for word in element.evaluate(BROKEN_WORDS)]
    assert not broken, f"{what}: words cut in the middle: {broken}"


@pytest.mark.settings(MFA_REQUIRED=True)
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_manage_two_factor_and_activity_tables_fit_at_1280_px(page, live_server, clock, axe, locale):
    text = TWO_FACTOR_TEXT[locale]
    page.set_viewport_size(WIDE)
    person = create_person(live_server.app)
    page.goto("/account")
    open_signin(page, locale)
    submit_signin(page, locale, person.email, person.password)
    set_up_app(page, axe, clock, text, f"layout, {locale}")
    accept_terms_if_asked(page, locale)

    # The activity table of the account home.
    assert_one_line(page, ".data-table thead th", "the activity table's headers")
    assert_one_line(page, ".data-table tbody td:last-child", "the activity table's IP addresses")
    assert_no_broken_word(page, ".data-table", "the activity table")

    # Two methods, so that each row has its buttons.
    page.get_by_role("link", name=text["manage"]).click()
    page.get_by_role("button", name=text["use_email"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(text["manage"])
    assert_one_line(page, ".data-table thead th", "the methods table's headers")
    assert_one_line(page, ".data-table .button", "the methods table's buttons")
    assert_no_broken_word(page, ".data-table", "the methods table")
    axe.assert_accessible(page, f"manage two-factor, two methods ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_registration_help_panel_is_beside_the_form_on_a_wide_screen(page, live_server, mailbox, axe, locale):
    page.set_viewport_size(WIDE)
    speak(page, live_server, locale)
    invite(live_server.app, email="zoe.citoyenne@example.ca", locale=locale)
    page.goto(path_of_link(mailbox.wait_for("zoe.citoyenne@example.ca"), "/register/invitation/"))

    form = page.locator("main form").first.bounding_box()
    panel = page.locator(".registration-panel").bounding_box()

    assert form and panel
    assert panel["x"] >= form["x"] + form["width"], (form, panel)
    assert panel["y"] < form["y"] + form["height"], "the panel starts beside the form, not below it"
    axe.assert_accessible(page, f"the invitation form, wide ({locale})")


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_registration_help_panel_follows_the_form_on_a_phone(page, live_server, mailbox, locale):
    page.set_viewport_size({"width": 390, "height": 844})
    speak(page, live_server, locale)
    invite(live_server.app, email="zoe.citoyenne@example.ca", locale=locale)
    page.goto(path_of_link(mailbox.wait_for("zoe.citoyenne@example.ca"), "/register/invitation/"))

    form = page.locator("main form").first.bounding_box()
    panel = page.locator(".registration-panel").bounding_box()

    assert form and panel and panel["y"] >= form["y"] + form["height"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, "nothing overflows sideways"


def test_every_page_has_a_favicon_the_browser_can_load(page, live_server):
    page.goto("/help")
    icon = page.locator("link[rel=icon]")

    expect(icon).to_have_count(1)
    response = page.request.get(icon.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
