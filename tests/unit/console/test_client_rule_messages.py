"""Every client-metadata rule a registration can break has a machine code (ClientRule), and
the console words each code itself, in the operator's language: no refusal is matched by
its English sentence, none reaches a French page in English."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask_babel import force_locale

from idp.console.client_forms import RULE_MESSAGES, rule_message
from idp.oidc.errors import ClientRule, InvalidClientMetadata

IDP = Path(__file__).resolve().parents[3] / "idp"


def raised_rules() -> list[tuple[str, int, str | None]]:
    """(file, line, the rule= argument as written) of every InvalidClientMetadata(...) in idp/."""
    found = []
    for path in IDP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "InvalidClientMetadata":
                rule = next((keyword.value for keyword in node.keywords if keyword.arg == "rule"), None)
                found.append((str(path.relative_to(IDP)), node.lineno, ast.unparse(rule) if rule else None))
    return found


def test_every_raise_names_its_rule():
    found = raised_rules()
    assert len(found) > 40
    assert [(file, line) for file, line, rule in found if rule is None] == []
    # Named straight from the enum, or by a local `rule` set from it (check_uri's label table).
    for file, line, rule in found:
        assert rule.startswith("ClientRule.") or rule == "rule", (file, line, rule)


def test_a_rule_is_required_and_the_description_is_unchanged():
    error = InvalidClientMetadata("scope must include openid", rule=ClientRule.SCOPE_WITHOUT_OPENID)
    assert str(error) == error.message == "scope must include openid"
    assert error.rule is ClientRule.SCOPE_WITHOUT_OPENID
    with pytest.raises(TypeError):
        InvalidClientMetadata("scope must include openid")  # the point of the test: no rule, no error


def test_every_rule_has_a_console_message_in_french_and_english(app):
    assert set(RULE_MESSAGES) == set(ClientRule)
    with app.test_request_context():
        for rule in ClientRule:
            _field, message = rule_message(InvalidClientMetadata("English for the CLI", rule=rule),
                                          ("name", "overlap", "expires_in", "jwks", "jwks_uri", "redirect_uris"))
            with force_locale("en"):
                english = str(message)
            with force_locale("fr"):
                french = str(message)
            assert english and "English for the CLI" not in english, rule
            assert french != english, (rule, english)


@pytest.mark.parametrize("fields, field", [
    (("name", "jwks", "jwks_uri"), "jwks"),
    (("name", "jwks_uri"), "jwks_uri"),  # the edit form has no JWKS field
    (("name",), "name"),  # the field is not on this form: the message goes first
])
def test_the_message_goes_next_to_the_field_the_form_has(app, fields, field):
    with app.test_request_context():
        error = InvalidClientMetadata("the JWKS must hold public keys only", rule=ClientRule.JWKS_PRIVATE)
        assert rule_message(error, fields)[0] == field
