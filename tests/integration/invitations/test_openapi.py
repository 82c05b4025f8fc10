"""docs/openapi.yaml parses, is OpenAPI 3.1, and documents every route of the API blueprint
with every status the API answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"


@pytest.fixture(scope="module")
def spec() -> dict:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def api_routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) for each rule of the invitations and organizations APIs."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("invitations_api.", "organizations_api.")):
            continue
        path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        path = path.replace("{invitation_id}", "{id}").replace("{organization_id}", "{id}")
        routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_openapi_document_parses_as_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] and spec["paths"]
    scheme = spec["components"]["securitySchemes"]["clientCredentials"]
    assert scheme["type"] == "oauth2"
    assert {"invitations", "organizations"} <= set(scheme["flows"]["clientCredentials"]["scopes"])
    assert spec["security"] == [{"clientCredentials": ["invitations"]}]


def test_every_route_of_the_blueprint_is_documented_and_nothing_else(app, spec):
    documented = {(path, method) for path, item in spec["paths"].items() for method in item
                  if method in ("get", "post", "put", "patch", "delete")}
    assert api_routes(app) == documented


def test_every_operation_documents_authentication_failures(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert {"401", "403"} <= set(operation["responses"]), (path, method)


def test_every_reference_resolves(spec):
    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for ref in walk(spec):
        target = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert target, ref


def test_the_documented_schema_matches_what_the_api_returns(client, app, spec):
    from tests.invitations_support import access_token, bearer, make_api_client

    headers = bearer(access_token(client, make_api_client(app)))
    body = client.post("/api/invitations", json={"email": "zoe@example.ca", "kind": "link"}, headers=headers).get_json()
    schema = spec["components"]["schemas"]["Invitation"]
    assert set(body) == set(schema["properties"])
    assert set(schema["required"]) <= {key for key, value in body.items() if value is not None}
    new = spec["components"]["schemas"]["NewInvitation"]
    from idp.invitations.api import CREATE_MEMBERS

    assert set(new["properties"]) == CREATE_MEMBERS
