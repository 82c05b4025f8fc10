"""One solved "not a robot" answer is good for exactly one submission of a registration
form, also when that submission fails (a field error, a refused invitation code, a rollback):
the spend is committed before the rest of the form is looked at (idp.robot.views.check_robot)."""

from __future__ import annotations

from html import unescape

import pytest

from tests.integration.registration.support import (
    EMAIL,
    PASSWORD,
    csrf,
    invitation_code,
    invite,
    reach_almost_there,
)
from tests.robot_support import solve_robot_check

pytestmark = pytest.mark.settings(RATELIMIT_ENABLED=False)

CHECK_AGAIN = {
    "en": "We could not confirm you are not a robot. Check the box, wait until it says you are verified, "
          "then submit the form again.",
    "fr": "Nous n’avons pas pu confirmer que vous n’êtes pas un robot. Cochez la case, attendez la mention "
          "« Vérifié », puis envoyez le formulaire de nouveau.",
}


def says_check_again(response, language: str) -> bool:
    return CHECK_AGAIN[language] in " ".join(unescape(response.text).split())


def post_code_form(client, altcha: str, **overrides):
    page = client.get("/register/code")
    data = {"csrf_token": csrf(page.text), "code": "AAAA-BBBB-CCCC-DDDD", "email": EMAIL, "given_name": "Zoé",
            "family_name": "Citoyenne", "phone_number": "514 555-0123", "password": PASSWORD,
            "confirm_password": PASSWORD, "accept_terms": "y", "altcha": altcha}
    data.update(overrides)
    return client.post("/register/code", data=data)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_answer_spent_on_a_refused_invitation_code_is_refused_next_time(app, client, mailbox, language):
    """The wrong-code branch rolls back; the spent answer stays spent."""
    client.set_cookie("passerelle_lang", language)
    invite(app, kind="code", locale=language)
    answer = solve_robot_check(client)
    first = post_code_form(client, answer)  # a code that is not this invitation's
    assert first.status_code == 422 and not says_check_again(first, language)
    right_code = invitation_code(mailbox.wait_for(EMAIL))
    second = post_code_form(client, answer, code=right_code)
    assert second.status_code == 422 and says_check_again(second, language)
    third = post_code_form(client, solve_robot_check(client), code=right_code)
    assert third.status_code == 303


def test_an_answer_spent_on_a_form_with_field_errors_is_refused_next_time(app, client, mailbox):
    """A form with field errors commits nothing; the spent answer stays spent."""
    client.set_cookie("passerelle_lang", "en")
    invite(app, kind="code", locale="en")
    code = invitation_code(mailbox.wait_for(EMAIL))
    answer = solve_robot_check(client)
    first = post_code_form(client, answer, code=code, confirm_password=PASSWORD + "x")
    assert first.status_code == 422 and "The two passwords do not match." in first.text
    assert not says_check_again(first, "en")
    second = post_code_form(client, answer, code=code)
    assert second.status_code == 422 and says_check_again(second, "en")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_almost_there_refuses_an_answer_already_spent_on_a_failed_submission(app, client, mailbox, language):
    client.set_cookie("passerelle_lang", language)
    reach_almost_there(app, client, mailbox, locale=language)

    def submit(answer, confirm=PASSWORD):
        page = client.get("/register/password")
        return client.post("/register/password", data={
            "csrf_token": csrf(page.text), "password": PASSWORD, "confirm_password": confirm,
            "accept_terms": "y", "altcha": answer})

    answer = solve_robot_check(client)
    first = submit(answer, confirm=PASSWORD + "x")
    assert first.status_code == 422 and not says_check_again(first, language)
    second = submit(answer)
    assert second.status_code == 422 and says_check_again(second, language)
    assert submit(solve_robot_check(client)).status_code == 303
