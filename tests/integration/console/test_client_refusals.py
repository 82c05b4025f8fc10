"""A relying-party page refused by a client-metadata rule says why in the operator's
language only: each kind of rule the console's forms can break, in French then in English,
the message next to the field concerned (the rule's machine code picks it, not its English
sentence)."""

from __future__ import annotations

import html
import re

import pytest

from tests.console_support import sign_in_as
from tests.integration.console.test_clients import hidden_fields, new_client_data
from tests.oidc_support import make_client

JWK = '{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", ' \
      '"y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"'
PUBLIC_JWKS = '{"keys": [' + JWK + '}]}'
# Words that would betray an English fragment on a French page (none is a French word).
ENGLISH = re.compile(r"\b(the|must|needs?|is|are|and|only|always|use|give|choose|check|public keys|refresh tokens|sign-ins)\b",
                     re.IGNORECASE)



@pytest.fixture
def rp(app):
    return make_client(app)


NEW = [  # (what the form sends on top of a valid registration, the field whose message says why)
    ({"name": "   "}, "name"),
    ({"redirect_uris": "http://portal.example.ca/cb"}, "redirect_uris"),
    ({"post_logout_redirect_uris": "https://portal.example.ca/bye#x"}, "post_logout_redirect_uris"),
    ({"redirect_uris": "", "grant_refresh_token": ""}, "redirect_uris"),
    ({"redirect_uris": "https://a.example.ca/cb\nhttps://b.example.ca/cb"}, "sector_identifier"),
    ({"sector_identifier": "not a host!"}, "sector_identifier"),
    ({"grant_authorization_code": "", "grant_refresh_token": ""}, "grant_authorization_code"),
    ({"grant_authorization_code": ""}, "grant_refresh_token"),
    ({"auth_method": "magic"}, "auth_method"),
    ({"auth_method": "none", "grant_client_credentials": "y"}, "auth_method"),
    ({"auth_method": "none", "require_pkce": ""}, "require_pkce"),
    ({"auth_method": "private_key_jwt"}, "jwks"),
    ({"auth_method": "private_key_jwt", "jwks": '{"keys": [' + JWK + ', "d": "secret"}]}'}, "jwks"),
    ({"auth_method": "private_key_jwt", "jwks": '{"keys": [1]}'}, "jwks"),
    ({"jwks": PUBLIC_JWKS, "jwks_uri": "https://portal.example.ca/jwks"}, "jwks_uri"),
    ({"jwks_uri": "http://portal.example.ca/jwks"}, "jwks_uri"),
    ({"require_signed_request_object": "y", "allow_unsigned_request_objects": "y"}, "allow_unsigned_request_objects"),
    ({"require_signed_request_object": "y"}, "require_signed_request_object"),
    ({"fapi2": "y", "jwks_uri": "https://portal.example.ca/jwks"}, "fapi2"),
    ({"scope": "profile"}, "scope"),
    ({"scope": "openid secrets"}, "scope"),
    ({"min_acr": "gold"}, "min_acr"),
    ({"subject_type": "secret"}, "subject_type"),
    ({"initiate_login_uri": "javascript:alert(1)"}, "initiate_login_uri"),
    ({"backchannel_logout_uri": "https://portal.example.ca/*"}, "backchannel_logout_uri"),
    ({"frontchannel_logout_uri": "https://user@portal.example.ca/fcl"}, "frontchannel_logout_uri"),
]


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', page, re.DOTALL)
    assert match, (field, re.findall(r'class="error-message" id="([^"]+)"', page))
    text = re.sub(r'<span class="visually-hidden">.*?</span>', "", match.group(1), flags=re.DOTALL)
    return html.unescape(" ".join(text.split()))


def refusals(client, path: str, data: dict, field: str) -> dict[str, str]:
    """The message next to `field` when the form at `path` is sent in each language."""
    messages = {}
    for language in ("en", "fr"):
        client.set_cookie("passerelle_lang", language)
        page = client.get(path)
        refused = client.post(path, data={**hidden_fields(page.text), **data})
        assert refused.status_code == 422 and f'<html lang="{language}">' in refused.text, refused.status_code
        messages[language] = field_error(refused.text, field)
    return messages


def assert_each_in_its_language(messages: dict[str, str]) -> None:
    assert messages["en"] != messages["fr"], messages
    assert not ENGLISH.findall(messages["fr"]), messages
    assert ENGLISH.search(messages["en"]), messages


@pytest.mark.parametrize("data, field", NEW)
def test_a_refused_registration_is_worded_in_the_operators_language(app, client, operator_id, data, field):
    sign_in_as(app, client, operator_id)
    assert_each_in_its_language(refusals(client, "/admin/clients/new", new_client_data(**data), field))


def test_a_refused_edit_is_worded_in_the_operators_language(app, client, operator_id, rp):
    sign_in_as(app, client, operator_id)
    data = {"name": "Portail", "redirect_uris": "https://elsewhere.example.ca/cb", "scope": "openid",
            "require_pkce": "y", "reason": "Nouveau domaine"}
    assert_each_in_its_language(refusals(client, f"/admin/clients/{rp.client_id}/edit", data, "redirect_uris"))


def test_a_refused_rotation_and_token_are_worded_in_the_operators_language(app, client, operator_id, rp):
    public = make_client(app, auth_method="none", is_public=True)
    for path, data, field in (
            (f"/admin/clients/{rp.client_id}/rotate-secret", {"overlap": "17", "reason": "Fuite"}, "overlap"),
            (f"/admin/clients/{public.client_id}/rotate-secret", {"overlap": "0", "reason": "Essai"}, "overlap"),
            ("/admin/initial-tokens", {"expires_in": "-5", "reason": "Portail"}, "expires_in")):
        sign_in_as(app, client, operator_id)  # a fresh key each time: rotating asks for it
        assert_each_in_its_language(refusals(client, path, data, field))
