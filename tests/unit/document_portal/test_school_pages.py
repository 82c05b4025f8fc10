"""DOCUMENT_PORTAL_SCHOOL_PAGES: each school's own page about the service, by organization
number, linked in the invitation email (seed 000). Only https URLs, from a settings table."""

from __future__ import annotations

import pytest

from clients.document_portal.config import ConfigError, school_pages


def test_pages_are_kept_by_organization_number():
    pages = school_pages({"E000000000001": "https://ecole-imaginaire.ca/mescertif/"})
    assert pages == {"E000000000001": "https://ecole-imaginaire.ca/mescertif"}


@pytest.mark.parametrize("value", ["https://ecole.ca", {"E1": "javascript:alert(1)"}, {"E1": "http://ecole.ca/page"}])
def test_anything_but_a_table_of_https_urls_is_refused_at_start(value):
    with pytest.raises(ConfigError, match="DOCUMENT_PORTAL_SCHOOL_PAGES"):
        school_pages(value)
