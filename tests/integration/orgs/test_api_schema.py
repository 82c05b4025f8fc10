"""The organizations API answers as docs/openapi.yaml says: every documented operation is
under the organizations scope, and whatever a client sends (property-based, hypothesis),
no answer is a 500, every answer's status is documented for its operation, and its body
conforms to the documented schema."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp.orgs.api import INVITATION_MEMBERS, REQUEST_MEMBERS
from tests.integration.orgs.test_api import SCOPE, attach, sub_of
from tests.invitations_support import access_token, bearer, make_api_client
from tests.openapi_support import load_spec, problems, resolve, response_schema
from tests.orgs_access_support import PRIMARY_EMAIL, SECONDARY_EMAIL, dli_with_members

SPEC = load_spec()
ORGANIZATION_PATHS = [path for path in SPEC["paths"] if path.startswith("/api/organizations")]


def test_every_organizations_operation_needs_the_organizations_scope():
    for path in ORGANIZATION_PATHS:
        for method, operation in SPEC["paths"][path].items():
            if method != "parameters":
                assert operation["security"] == [{"clientCredentials": ["organizations"]}], (path, method)


def test_the_documented_bodies_name_exactly_the_members_the_api_accepts():
    schemas = SPEC["components"]["schemas"]
    assert set(schemas["NewMemberInvitation"]["properties"]) == INVITATION_MEMBERS
    assert set(schemas["NewChangeRequest"]["properties"]) == REQUEST_MEMBERS


def check(response, path: str, method: str) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    schema = response_schema(SPEC, path, method, response.status_code)
    assert schema is not None, f"{method} {path} answered an undocumented {response.status_code}: {response.get_json()}"
    assert problems(SPEC, schema, response.get_json()) == [], response.get_json()


@pytest.fixture
def world(app, client, run_idp):
    """One DLI attached to the client, another not attached, the people's subjects."""
    dli = dli_with_members(app)
    other = dli_with_members(app, people=(("bo@example.ca", "primary"),), number="O999999999999")
    rp = make_api_client(app, scope=SCOPE)
    attach(run_idp, dli.public_id, rp.client_id)
    subs = [sub_of(app, rp, email) for email in (PRIMARY_EMAIL, SECONDARY_EMAIL, "bo@example.ca")]
    return {"dli": dli.public_id, "other": other.public_id, "subs": subs,
            "headers": bearer(access_token(client, rp, scope="organizations"))}


@pytest.mark.settings(ORGANIZATION_API_RATE_LIMIT="100000 per hour")
def test_answers_match_the_documented_schemas(client, world):
    dli, headers = world["dli"], world["headers"]
    primary, secondary, _stranger = world["subs"]
    calls = [
        ("get", "/api/organizations", f"/api/organizations", None),
        ("get", "/api/organizations/{id}", f"/api/organizations/{dli}", None),
        ("get", "/api/organizations/{id}", f"/api/organizations/{world['other']}", None),
        ("get", "/api/organizations/{id}/members", f"/api/organizations/{dli}/members", None),
        ("post", "/api/organizations/{id}/invitations", f"/api/organizations/{dli}/invitations",
         {"acting_sub": primary, "email": "lou@example.ca", "locale": "en"}),
        ("post", "/api/organizations/{id}/invitations", f"/api/organizations/{dli}/invitations",
         {"acting_sub": secondary, "email": "lou@example.ca"}),
        ("post", "/api/organizations/{id}/requests", f"/api/organizations/{dli}/requests",
         {"acting_sub": primary, "kind": "remove_secondary", "target_sub": secondary, "reason": "Parti."}),
        ("post", "/api/organizations/{id}/requests", f"/api/organizations/{dli}/requests",
         {"acting_sub": primary, "kind": "remove_secondary", "target_sub": secondary, "reason": "Parti."}),
        ("get", "/api/organizations/{id}/requests", f"/api/organizations/{dli}/requests", None),
        ("get", "/api/organizations/{id}/invitations", f"/api/organizations/{dli}/invitations", None),
    ]
    statuses = []
    for method, documented, path, body in calls:
        response = client.open(path, method=method.upper(), json=body, headers=headers)
        check(response, documented, method)
        statuses.append(response.status_code)
    assert statuses == [200, 200, 404, 200, 201, 403, 201, 409, 200, 200]
    assert set(client.get(f"/api/organizations/{dli}/requests", headers=headers).get_json()["requests"][0]) == set(
        resolve(SPEC, SPEC["components"]["schemas"]["ChangeRequest"])["properties"])


FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TEXTS = ["", "lou@example.ca", "pat@example.ca", "<b>x</b>@example.ca", "x\u202e@example.ca", "a\u200bb", "fr", "en",
         "de", "remove_secondary", "change_primary", "secondary", "leave", "primary", "Parti.", "Ligne\nsuivante",
         "<script>alert(1)</script>", "\x00", "x" * 1100, "é" * 300, "pending", "approved"]


def json_values(subs):
    scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
               | st.sampled_from(TEXTS + subs))
    return st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                        | st.dictionaries(st.text(max_size=8), children, max_size=3), max_leaves=5)


@st.composite
def api_calls(draw, world):
    subs = world["subs"]
    organization = draw(st.sampled_from([world["dli"], world["dli"], world["other"], "nope", "%00", "a" * 300, "-x"]))
    operation = draw(st.sampled_from([
        ("get", "/api/organizations"), ("get", "/api/organizations/{id}"), ("get", "/api/organizations/{id}/members"),
        ("get", "/api/organizations/{id}/requests"), ("post", "/api/organizations/{id}/invitations"),
        ("get", "/api/organizations/{id}/invitations"),
        ("post", "/api/organizations/{id}/requests"),
    ]))
    method, documented = operation
    path = documented.replace("{id}", organization)
    body = None
    if documented.endswith("/invitations"):
        members = sorted(INVITATION_MEMBERS | {"x"})
    else:
        members = sorted(REQUEST_MEMBERS | {"x"})
    if method == "post":
        body = draw(st.one_of(st.dictionaries(st.sampled_from(members), json_values(subs), max_size=7),
                              json_values(subs)))
    elif documented.endswith("/requests"):
        path += "?state=" + draw(st.sampled_from(["pending", "approved", "rejected", "lost", "%00", ""]))
    return method, documented, path, body


@pytest.mark.settings(ORGANIZATION_API_RATE_LIMIT="100000 per hour")
def test_no_input_gives_a_500_or_an_answer_outside_the_schema(client, world):
    statuses: list[int] = []

    @FUZZ
    @given(call=api_calls(world))
    def run(call):
        method, documented, path, body = call
        response = client.open(path, method=method.upper(), json=body, headers=world["headers"])
        check(response, documented, method)
        statuses.append(response.status_code)

    run()
    assert len(statuses) >= 100 and {200, 400, 404} <= set(statuses)
