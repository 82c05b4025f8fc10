"""The checks on a document invitation's details and return URL (idp/invitations/documents.py)."""

from __future__ import annotations

import pytest

from idp.invitations.documents import check_details, check_document, check_return_url, clean_address
from idp.invitations.errors import InvalidInvitation

REDIRECT_URIS = ("https://documents.example.ca/callback", "http://127.0.0.1:5004/callback")


@pytest.mark.parametrize("url", ["https://documents.example.ca/documents/1", "https://DOCUMENTS.example.ca:443/x?y=1",
                                 "http://127.0.0.1:5004/documents", "https://documents.example.ca"])
def test_return_urls_on_a_redirect_uri_origin_are_kept(url):
    assert check_return_url(url, REDIRECT_URIS) == url


@pytest.mark.parametrize("url", ["https://documents.example.ca.evil.example/", "https://evil.example/?https://documents.example.ca/",
                                 "http://documents.example.ca/", "http://127.0.0.1:5005/", "//documents.example.ca/x",
                                 "https://documents.example.ca\\@evil.example/", "https://documents.example.ca:99999/",
                                 "https://documents.example.ca/\x00", "data:text/html,x", 42, None, "", "https://x" + "y" * 2000])
def test_other_return_urls_are_refused(url):
    with pytest.raises(InvalidInvitation) as raised:
        check_return_url(url, REDIRECT_URIS)
    assert raised.value.field == "return_url"


def test_no_redirect_uri_means_no_return_url():
    with pytest.raises(InvalidInvitation):
        check_return_url("https://documents.example.ca/", ())


def test_details_are_trimmed_and_the_gender_defaults_to_masculine():
    details = check_details({"document_type": {"fr": " Relevé ", "en": "Transcript"},
                             "issuer_name": {"fr": "École", "en": "School"}, "contact_email": "Info@Ecole.ca"})
    assert details == {"document_type": {"fr": "Relevé", "en": "Transcript", "gender": "masculine"},
                       "issuer_name": {"fr": "École", "en": "School"}, "contact_email": "info@ecole.ca"}


@pytest.mark.parametrize("address", ["<b>a</b>@example.ca", "A <a@example.ca>", "a@example.ca,b@example.ca", "a@b", 5, None])
def test_addresses_with_markup_or_several_are_refused(address):
    with pytest.raises(InvalidInvitation):
        clean_address("email", address)


DETAILS = {"document_type": {"fr": "Relevé", "en": "Transcript"}, "issuer_name": {"fr": "École", "en": "School"},
           "contact_email": "info@ecole.ca"}


def test_an_invitation_without_a_document_has_no_details_and_no_return_url():
    assert check_document("code", None, "https://documents.example.ca/", REDIRECT_URIS) == (None, None)


def test_a_document_invitation_keeps_its_checked_details_and_return_url():
    details, url = check_document("link", DETAILS, "https://documents.example.ca/documents/1", REDIRECT_URIS)
    assert details == check_details(DETAILS)
    assert url == "https://documents.example.ca/documents/1"


def test_a_document_invitation_is_a_link_invitation():
    with pytest.raises(InvalidInvitation) as raised:
        check_document("code", DETAILS, "https://documents.example.ca/", REDIRECT_URIS)
    assert raised.value.field == "kind"
