"""Every page and every email has its own title within its site (issue 9, item 21; WCAG 2.4.2): two
pages with different purposes never share one, nor do two emails."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from tests.unit.test_translations import (  # noqa: F401 (fixtures)
    LAYOUTS,
    TITLE_SUFFIX,
    all_templates,
    demo_rp_app,
    idp_app,
    is_fragment,
    page_title,
    render,
)

# Pages whose title comes from the view (one template, one title per status or problem).
TITLED_BY_THE_VIEW = {"errors/error.html"}
# One document in two languages (terms/2026-11/privacy.fr.html and .en.html) is one page.
LANGUAGE_VARIANT = re.compile(r"\.(en|fr)\.html$")


def application(name: str) -> str:
    """Whose page it is: each portal is a site of its own (clients/<portal>/...), the rest is
    Passerelle's. A title need only be unique within one site."""
    parts = name.split("/")
    return "/".join(parts[:2]) if parts[0] == "clients" else "passerelle"


def pages() -> list[str]:
    return [
        name for name in all_templates()
        if name.endswith(".html") and name not in LAYOUTS and name not in TITLED_BY_THE_VIEW and not is_fragment(name)
    ]


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_no_two_pages_or_emails_share_a_title(idp_app, demo_rp_app, locale):
    titles = defaultdict(list)
    for name in pages():
        title = TITLE_SUFFIX.sub("", page_title(render(idp_app, demo_rp_app, name, locale))).strip()
        titles[(application(name), title)].append(name)

    shared = {
        title: names for title, names in titles.items() if len({LANGUAGE_VARIANT.sub(".html", name) for name in names}) > 1
    }
    assert not shared, f"{locale}: titles used by more than one page or email: {shared}"
