"""The two portals' shared layout and stylesheet (templates/clients/portal_kit/base.html,
clients/portal_kit/static/portal_kit.css): each portal's base.html extends the kit's, each
portal serves the kit's stylesheet and links it before its own, and no portal stylesheet
repeats one of the kit's rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.test_translations import demo_rp_app, idp_app, render  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[3]
KIT_CSS = ROOT / "clients/portal_kit/static/portal_kit.css"
PORTALS = {"institution_portal": "institution_portal.css", "document_portal": "document_portal.css"}


def rules(css: str) -> set[str]:
    """Each top-level rule of a stylesheet, whitespace normalised, comments left out."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    found, depth, start = set(), 0, 0
    for index, char in enumerate(css):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "}" and depth == 0:
            found.add(" ".join(css[start:index + 1].split()))
            start = index + 1
    return found


@pytest.mark.parametrize("portal", PORTALS)
def test_each_portal_layout_extends_the_kits(portal):
    base = (ROOT / "templates/clients" / portal / "base.html").read_text(encoding="utf-8")
    assert base.startswith('{% extends "clients/portal_kit/base.html" %}')


@pytest.mark.parametrize(("portal", "stylesheet"), PORTALS.items())
def test_no_portal_stylesheet_repeats_a_rule_of_the_kits(portal, stylesheet):
    own = rules((ROOT / "clients" / portal / "static" / stylesheet).read_text(encoding="utf-8"))
    assert not own & rules(KIT_CSS.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("portal", "stylesheet"), PORTALS.items())
def test_a_portal_page_links_the_kits_stylesheet_then_its_own(idp_app, demo_rp_app, portal, stylesheet):  # noqa: F811
    html = render(idp_app, demo_rp_app, f"clients/{portal}/help.html", "fr")
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)">', html)
    assert links == ["/static/portal_kit/portal_kit.css", f"/static/{stylesheet}"]


@pytest.mark.parametrize("portal", PORTALS)
def test_each_portal_serves_the_kits_stylesheet(portal):
    from tests.document_portal_templates import document_portal_app
    from tests.unit.test_translations import portal_app

    app = portal_app() if portal == "institution_portal" else document_portal_app()
    response = app.test_client().get("/static/portal_kit/portal_kit.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert response.get_data() == KIT_CSS.read_bytes()
    response.close()
