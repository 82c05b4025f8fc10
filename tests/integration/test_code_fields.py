"""The code pages (issue 9, item 21): the code field has the focus when the page opens, and a
wrong code is not typed back into it (the person types the next attempt in an empty field)."""

from __future__ import annotations

import re

import pytest

from tests.integration.mfa.test_email_code_step import post_code, to_code_page, user_id, wrong  # noqa: F401 (fixture)
from tests.integration.mfa.test_two_factor import to_setup
from tests.integration.signin.support import csrf_token
from tests.signin_support import latest_signin_code

EMAIL = "ana@example.ca"


def code_input(page_text: str) -> str:
    found = re.search(r'<input[^>]*\bid="code"[^>]*>', page_text)
    assert found, "no code field on the page"
    return found.group(0)


def assert_empty_and_focused(page_text: str, typed: str) -> None:
    field = code_input(page_text)
    assert typed not in field and re.search(r'\bvalue="[^"]+"', field) is None, field
    assert re.search(r"\bautofocus\b", field), field


def test_the_emailed_code_field_has_the_focus(client, user_id, mailbox):  # noqa: F811
    field = code_input(to_code_page(client).text)

    assert re.search(r"\bautofocus\b", field), field


def test_a_wrong_emailed_code_is_not_typed_back(client, user_id, mailbox):  # noqa: F811
    page = to_code_page(client)
    typed = wrong(latest_signin_code(EMAIL))

    response = post_code(client, page, typed)

    assert response.status_code == 422
    assert_empty_and_focused(response.text, typed)


@pytest.mark.settings(MFA_REQUIRED=True)
def test_a_wrong_app_code_at_set_up_is_not_typed_back(app, client, user_id, clock, mailbox):  # noqa: F811
    to_setup(client)
    choice = client.get("/signin/setup")
    client.post("/signin/setup", data={"csrf_token": csrf_token(choice.text), "method": "totp"})
    page = client.get("/signin/setup/app")
    assert re.search(r"\bautofocus\b", code_input(page.text))

    response = client.post("/signin/setup/app", data={"csrf_token": csrf_token(page.text), "code": "000000"})

    assert response.status_code == 422
    assert_empty_and_focused(response.text, "000000")
