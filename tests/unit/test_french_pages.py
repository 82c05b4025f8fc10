"""Every page and email rendered in French reads as French (issue 9, item 18): no English
word in its visible text, outside code and elements marked with another lang."""

from __future__ import annotations

import pytest

from tests.integration.test_i18n import ENGLISH_WORDS, visible_text
from tests.unit.test_translations import (  # noqa: F401 (fixtures)
    LAYOUTS,
    all_templates,
    demo_rp_app,
    idp_app,
    is_fragment,
    render,
)

# English placeholders that the template tests' contexts pass in (the real views pass
# translated text): not the template's own words.
TEST_CONTEXT_TEXT = {"This link does not work.", "redirect_uri is not registered"}


def french_pages() -> list[str]:
    """Pages and email bodies; an English document (terms/…/terms.en.html) is English by design."""
    return [
        name for name in all_templates()
        if name.endswith(".html") and name not in LAYOUTS and not is_fragment(name) and ".en." not in name
    ]


@pytest.mark.parametrize("name", french_pages())
def test_a_page_in_french_has_no_english(idp_app, demo_rp_app, name):
    html = render(idp_app, demo_rp_app, name, "fr")

    english = [
        (chunk, found.group(0))
        for chunk in visible_text(html, "fr")
        if chunk not in TEST_CONTEXT_TEXT and (found := ENGLISH_WORDS.search(chunk))
    ]
    assert not english, f"{name}: English in the French rendering: {english}"
