"""Every page of the learner's side renders in French and English with a title of its own,
translated (the every-template checks of tests/unit/test_translations.py, for these pages)."""

from __future__ import annotations

import re

import pytest

from clients.document_portal.web import page
from tests.document_portal_learner_support import learner_template_contexts

PREFIX = "clients/document_portal/"
TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)
PAGES = sorted(learner_template_contexts(PREFIX))


def render(app, name: str, locale: str) -> str:
    with app.test_request_context("/", headers={"Accept-Language": locale}):
        return page(name.removeprefix(PREFIX), **learner_template_contexts(PREFIX)[name]())[0]


def own_title(html: str) -> str:
    return " ".join(TITLE.search(html).group(1).split()).rsplit(" – ", 1)[0]


@pytest.mark.parametrize("name", PAGES)
def test_each_page_has_its_own_translated_title(app, name):
    french, english = render(app, name, "fr"), render(app, name, "en")
    assert '<html lang="fr">' in french and '<html lang="en">' in english
    assert own_title(french) and own_title(english)
    assert own_title(french) != own_title(english), f"{name}: the French title is English"


def test_no_two_pages_share_a_title(app):
    for locale in ("fr", "en"):
        titles = [own_title(render(app, name, locale)) for name in PAGES]
        assert len(set(titles)) == len(titles), titles
