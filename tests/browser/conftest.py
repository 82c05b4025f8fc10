"""Browser tier: real Chromium driven by Playwright against the live server, axe-core checks.

Chromium is the system's (Debian's /usr/bin/chromium, or $PASSERELLE_CHROMIUM); Playwright's
own browser download is never used. axe-core comes from npm: `cd tests/browser && npm ci
--no-audit --no-fund` (the Makefile's browser-deps target).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.browser.axe import AxeChecker
from tests.catalogs import compile_catalogs

CHROMIUM = Path(os.environ.get("PASSERELLE_CHROMIUM", "/usr/bin/chromium"))

# Headless, and nothing leaves loopback: every other host fails to resolve and any proxied
# request goes to a closed port.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]

# Playwright waits this long (ms) for a page or element: long enough for a loaded CI machine.
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogs() -> None:
    compile_catalogs()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install it (`apt-get install -y chromium`, or "
            "`make browser-deps`) or point PASSERELLE_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh browser profile (no cookies) whose relative URLs go to the live IdP."""
    context = browser.new_context(base_url=live_server.url, locale="en-CA")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe() -> AxeChecker:
    return AxeChecker.load()
