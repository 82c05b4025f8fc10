"""Screenshots of the operators' console for docs/operators.md (issue 16).

    .venv/bin/python docs/screenshots/console.py [--out docs/screenshots]

Starts Passerelle on a loopback port with a throwaway SQLite database holding the demo data
(`idp db upgrade`, `idp demo`), an operator with a security key, a person with two-factor
set up and a pending change request; then drives Chromium (/usr/bin/chromium, or
$PASSERELLE_CHROMIUM; the browser tests' flags: headless, nothing leaves loopback) through
the console in English: the sign-in with the key (Chromium's virtual authenticator), the
search, a person, the two-factor reset form, then every page the console's navigation links,
the pages those link to and theirs in turn. Each view is saved as console-<view>.png (the
Flask view's name), 1200 px wide, reduced to a small palette. Nothing is submitted: the
pages are only looked at.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from click.testing import CliRunner
from PIL import Image
from playwright.sync_api import Page, sync_playwright
from werkzeug.exceptions import HTTPException

from idp import create_app
from idp.cli import main as idp_cli
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.support import plug_in_key
from tests.support import LiveServer
from tests.webauthn_support import SoftwareAuthenticator

AGENT_EMAIL = "ana.operatrice@passerelle.test"
SECONDARY_EMAIL = "sam.secondaire@college-imaginaire.test"
PERSON_EMAIL = "demo@passerelle.test"  # the demo user, primary user of the demo DLI
WIDTH, HEIGHT = 1200, 800
MAX_HEIGHT = 2000  # a longer page is cut here: its top says what it is
COLOURS = 64  # a palette this size keeps text crisp and the files small
TIMEOUT_MS = 15_000
# Links whose view would change something on a GET, or that leave the console: never opened.
SKIPPED_VIEWS = {"console.sign_out"}


def idp(app, *args: str) -> str:
    result = CliRunner().invoke(idp_cli, list(args), obj=app, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"idp {' '.join(args)} failed: {result.output}")
    return result.output


def seed(app, key: SoftwareAuthenticator) -> str:
    """The demo data, then the operator, the person's methods and session, and a pending
    change request. Returns the operator's password."""
    from idp.accounts.models import User
    from idp.audit import EventTag, record_event
    from idp.cli.demo import DEMO_DLI
    from idp.console.roles import OPERATOR, RoleService
    from idp.context import app_context
    from idp.extensions import db
    from idp.signin.sessions import SessionService
    from tests.console_support import (
        PASSWORD,
        add_app_and_codes,
        add_key,
        create_person,
    )
    from tests.orgs_support import join, org_service

    idp(app, "db", "upgrade")
    idp(app, "demo")
    with app.app_context():
        ctx = app_context()
        agent = create_person(AGENT_EMAIL, "Ana", "Opératrice", locale="en")
        add_key(agent, key, nickname="Ana's key")
        RoleService(db.session, ctx.clock).grant(agent, OPERATOR)
        person = db.session.query(User).filter_by(email=PERSON_EMAIL).one()
        person.locale = "fr"
        add_app_and_codes(person)
        add_key(person, nickname="Clé bleue")
        SessionService(db.session, ctx.settings, ctx.clock, ctx.hasher).create(
            person.id, ["pwd", "otp", "mfa"], "urn:passerelle:acr:mfa", ctx.clock() - timedelta(minutes=20),
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
        record_event(db.session, ctx.clock, EventTag.SIGNIN_SUCCESS, user_id=person.id, ip_address="192.0.2.10")

        service = org_service()
        organization = service.get_by_number(DEMO_DLI["kind"], DEMO_DLI["number"])
        secondary, _user = join(service, organization, SECONDARY_EMAIL, locale="fr")
        service.submit_request(organization.id, by_user_id=person.id, kind="remove_secondary",
                               reason="Sam a quitté le collège en novembre.", target_membership_id=secondary.id)
        db.session.commit()
    return PASSWORD


def through_signin(page: Page) -> None:
    """Wherever the sign-in stopped (the key asked again, the terms): go on to the console."""
    for _ in range(4):
        path = urlsplit(page.url).path
        if path == "/signin/security-key":
            with page.expect_navigation():
                page.get_by_role("button", name="Use my security key", exact=True).click()
        elif path == "/signin/terms":
            with page.expect_navigation():
                page.get_by_role("button", name="I have read and I accept", exact=True).click()
        elif path == "/signin/second-factor":
            page.wait_for_url(lambda url: urlsplit(url).path != "/signin/second-factor")
        else:
            return


class Camera:
    def __init__(self, app, page: Page, out: Path):
        self.app, self.page, self.out = app, page, out
        self.adapter = app.url_map.bind("localhost")
        self.saved: list[Path] = []
        self.names: set[str] = set()

    def view_of(self, path: str) -> tuple[str, dict]:
        endpoint, args = self.adapter.match(path, method="GET")
        return endpoint, args

    def wanted(self, path: str) -> bool:
        """A console page opened with GET whose view has no screenshot yet."""
        try:
            endpoint, _args = self.view_of(path)
        except HTTPException:  # not a page (a POST-only route), or not Passerelle's
            return False
        return endpoint not in SKIPPED_VIEWS and self.name_of(path) not in self.names

    def name_of(self, path: str) -> str:
        endpoint, args = self.view_of(path)
        words = [endpoint.removeprefix("console.")]
        words += [str(args[name]) for name in ("action", "decision") if name in args]
        return "console-" + "-".join(words).replace("_", "-")

    def open(self, path: str) -> None:
        """Open a console page (through the key if it is asked again); an error page stops
        the run rather than end up in the documentation."""
        response = self.page.goto(path)
        if response is not None and response.status >= 400:
            raise SystemExit(f"{path} answered {response.status}")
        through_signin(self.page)
        if urlsplit(self.page.url).path != urlsplit(path).path:
            raise SystemExit(f"{path} led to {self.page.url}")

    def shoot(self, name: str | None = None) -> Path:
        path = urlsplit(self.page.url).path
        name = name or self.name_of(path)
        self.names.add(name)
        target = self.out / f"{name}.png"
        height = min(MAX_HEIGHT, self.page.evaluate("document.body.scrollHeight"))
        self.page.screenshot(path=str(target), full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": height})
        with Image.open(target) as image:
            small = image.convert("RGB").quantize(colors=COLOURS, dither=Image.Dither.NONE)
        small.save(target, optimize=True)
        self.saved.append(target)
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}  {path}")
        return target

    def links(self, selector: str) -> list[str]:
        hrefs = self.page.eval_on_selector_all(selector, "links => links.map(link => link.getAttribute('href'))")
        return [href for href in dict.fromkeys(hrefs) if href and href.startswith("/admin")]


def run(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    key = SoftwareAuthenticator("http://localhost", "localhost")
    with tempfile.TemporaryDirectory(prefix="passerelle-screenshots-") as scratch:
        server = LiveServer()
        server.url = f"http://localhost:{server.port}"
        app = create_app({
            "ENV": "development", "OIDC_ISSUER": server.url, "MFA_REQUIRED": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(scratch) / 'passerelle.sqlite3'}",
            "MAIL_SEND_AFTER_RESPONSE": False,  # the mail stays in the outbox: nothing leaves
        })
        password = seed(app, key)
        server.start(app)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                context = browser.new_context(base_url=server.url, locale="en-CA",
                                              viewport={"width": WIDTH, "height": HEIGHT})
                context.set_default_timeout(TIMEOUT_MS)
                context.add_cookies([{"name": "passerelle_lang", "value": "en", "url": server.url}])
                page = context.new_page()
                plug_in_key(page, key)
                camera = Camera(app, page, out)

                page.goto("/admin/")  # not signed in: the sign-in, then back to the console
                page.get_by_label("Email address", exact=True).fill(AGENT_EMAIL)
                page.get_by_label("Password", exact=True).fill(password)
                with page.expect_navigation():
                    page.get_by_role("button", name="Sign in", exact=True).click()
                camera.shoot("console-signin-security-key")
                through_signin(page)
                page.wait_for_url(f"{server.url}/admin/")

                page.get_by_label("Email address", exact=True).fill(PERSON_EMAIL)
                camera.shoot()
                with page.expect_navigation():
                    page.get_by_role("button", name="Search", exact=True).click()
                camera.shoot()
                person = urlsplit(page.url).path
                for href in camera.links("main a[href^='/admin/people/']"):
                    if href.startswith(person + "/") and camera.wanted(href):
                        camera.open(href)
                        camera.shoot()

                # Every page the navigation links, the pages those link to and theirs in
                # turn (an item, its forms): one screenshot per view, nothing submitted.
                camera.open("/admin/")
                queue = [(href, 0) for href in camera.links("nav.console-nav a")]
                while queue:
                    href, depth = queue.pop(0)
                    if not camera.wanted(urlsplit(href).path):
                        continue
                    camera.open(href)
                    camera.shoot()
                    if depth < 2:
                        queue += [(link, depth + 1) for link in camera.links("main a")]
                browser.close()
        finally:
            server.stop()
            from idp.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return camera.saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    arguments = parser.parse_args()
    os.chdir(ROOT)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per page, not per request
    saved = run(arguments.out.resolve())
    total = sum(path.stat().st_size for path in saved)
    print(f"{len(saved)} screenshots, {total // 1024} KiB in all")


if __name__ == "__main__":
    main()
