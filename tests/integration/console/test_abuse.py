"""Bad input and abuse in the console's people and organization pages (issue 16, "Bad input
and abuse (each tested)"): each case a clear, translated page, never a 500, and nothing
changed. The permission and CSRF checks walk every console route of the app's URL map, so
the pages added later (relying parties, keys, mail, audit log) are held to them too."""

from __future__ import annotations

import threading

import pytest
from flask import url_for
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from idp.accounts.models import User
from idp.audit import EventTag, SecurityEvent
from idp.console.actions import PersonActions
from idp.console.roles import OPERATOR, SERVICE_DESK, RoleService
from idp.context import app_context
from idp.extensions import db
from idp.mail.models import OutboxMessage
from idp.orgs.models import ChangeRequest, Organization
from tests.console_support import (
    APP_AMR,
    add_app_and_codes,
    add_key,
    create_person,
    find_person,
    make_agent,
    sign_in_as,
)
from tests.oidc_support import csrf_token

pytestmark = pytest.mark.settings(MFA_REQUIRED=True)

# The console pages a service-desk agent may open; every other console route is for operators.
SERVICE_DESK_ENDPOINTS = {"console.index", "console.person", "console.act", "console.reset_two_factor",
                          "console.sign_out"}
PERSON_ACTIONS = ("resend-activation", "unlock", "end-sessions", "disable", "enable")
MARKUP = '<img src=x onerror="alert(1)">'


def console_paths(app, predicate, known: dict | None = None) -> list[tuple[str, str]]:
    """(method, path) of every console route the predicate keeps, its arguments taken from
    known (by name) or filled with placeholder values (the checks under test come before the
    view looks at them)."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("console.") or not predicate(rule):
                continue
            values = {name: (known or {}).get(name, 1 if isinstance(rule._converters.get(name), IntegerConverter) else "x")
                      for name in rule.arguments}
            found.append(("GET" if "GET" in rule.methods else "POST", url_for(rule.endpoint, **values)))
    return found


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(app, tag: EventTag) -> list[SecurityEvent]:
    with app.app_context():
        return list(db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(tag))))


def assert_unchanged(app, person_id: int) -> None:
    with app.app_context():
        user = db.session.get(User, person_id)
        assert user.disabled_at is None and user.mfa_enrolled_at is not None


# --- A service-desk agent opening an operator page: 403, audited --------------------------

def test_every_operator_page_is_a_403_page_for_the_service_desk_and_audited(app, client, desk_id, request_id):
    sign_in_as(app, client, desk_id)
    token = csrf_token(client.get("/admin/").text)
    paths = console_paths(app, lambda rule: rule.endpoint not in SERVICE_DESK_ENDPOINTS)
    assert ("GET", "/admin/organizations") in paths and ("GET", "/admin/requests") in paths
    for method, path in paths:
        response = client.open(path, method=method, data={"csrf_token": token, "reason": "x"} if method == "POST" else None)
        assert response.status_code == 403 and "Not part of your role" in response.text, (method, path)
    refused = events(app, EventTag.CONSOLE_ACCESS_REFUSED)
    assert sorted(event.details["path"] for event in refused) == sorted(path for _method, path in paths)
    assert {event.details["agent_id"] for event in refused} == {desk_id}
    assert count(app, ChangeRequest, ChangeRequest.state == "pending") == 1


def test_the_real_operator_pages_are_403_for_the_service_desk_in_french(app, client, desk_id, request_id):
    sign_in_as(app, client, desk_id)
    client.set_cookie("passerelle_lang", "fr")
    token = csrf_token(client.get("/admin/").text)
    for path in ("/admin/organizations/O123456789012", "/admin/organizations/O123456789012/disable",
                 f"/admin/requests/{request_id}/approve", f"/admin/requests/{request_id}/reject"):
        page = client.get(path)
        assert page.status_code == 403 and '<html lang="fr">' in page.text and "Cela ne fait pas partie de votre rôle" in page.text
        if path.count("/") == 4:  # a form
            assert client.post(path, data={"csrf_token": token, "reason": "Pourquoi pas"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Organization.state)) == "active"
    assert count(app, ChangeRequest, ChangeRequest.state == "pending") == 1
    assert "Organisations" not in client.get("/admin/").text.split("<main", 1)[-1].split("</nav>", 1)[0]


# --- An agent acting on their own account: refused ------------------------------------------

@pytest.mark.parametrize("role", [SERVICE_DESK, OPERATOR])
def test_an_agent_cannot_act_on_their_own_account_by_any_action(app, client, role):
    agent_id = make_agent(app, "agent@example.ca", role)
    with app.app_context():
        add_app_and_codes(db.session.get(User, agent_id))
        db.session.commit()
    sign_in_as(app, client, agent_id)
    person = client.get(f"/admin/people/{agent_id}")
    assert person.status_code == 200 and "This is your own account: another agent must act on it." in person.text
    assert f"/admin/people/{agent_id}/disable" not in person.text
    for action in PERSON_ACTIONS:
        form = client.get(f"/admin/people/{agent_id}/{action}")
        response = client.post(f"/admin/people/{agent_id}/{action}", data={"csrf_token": csrf_token(form.text), "reason": "Moi"})
        assert response.status_code == 422 and "You cannot act on your own account" in response.text, action
    form = client.get(f"/admin/people/{agent_id}/reset-two-factor")
    response = client.post(f"/admin/people/{agent_id}/reset-two-factor", data={
        "csrf_token": csrf_token(form.text), "verification": "in_person_id_document", "reason": "Moi"})
    assert response.status_code == 422 and "You cannot act on your own account" in response.text
    assert_unchanged(app, agent_id)
    assert events(app, EventTag.CONSOLE_TWO_FACTOR_RESET) == [] and events(app, EventTag.SESSIONS_ENDED) == []


@pytest.mark.parametrize("email", ["pat@example.ca", "sam@example.ca"])  # the requester, the member concerned
def test_an_operator_cannot_decide_a_change_request_about_themselves(app, client, request_id, email):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        add_key(user)
        RoleService(db.session, app_context().clock).grant(user, OPERATOR)
        db.session.commit()
        agent_id = user.id
    sign_in_as(app, client, agent_id)
    for decision in ("approve", "reject"):
        form = client.get(f"/admin/requests/{request_id}/{decision}")
        response = client.post(f"/admin/requests/{request_id}/{decision}",
                               data={"csrf_token": csrf_token(form.text), "reason": "Moi"})
        assert response.status_code == 422 and "Ask another operator" in response.text, decision
    client.set_cookie("passerelle_lang", "fr")
    form = client.get(f"/admin/requests/{request_id}/reject")
    response = client.post(f"/admin/requests/{request_id}/reject", data={"csrf_token": csrf_token(form.text), "reason": "Moi"})
    assert response.status_code == 422 and "Demandez à un autre opérateur" in response.text
    assert count(app, ChangeRequest, ChangeRequest.state == "pending") == 1
    assert events(app, EventTag.CONSOLE_REQUEST_DECIDED) == []


# --- A console session without mfa-phr, or older than 15 minutes ----------------------------

@pytest.mark.parametrize("how", ["no_key", "old_key"])
def test_no_console_page_opens_without_a_recent_key(app, client, operator_id, person_id, request_id, how):
    sign_in_as(app, client, operator_id, **({"amr": APP_AMR} if how == "no_key" else {"key_age": 15 * 60 + 1}))
    for method, path in console_paths(app, lambda rule: "GET" in rule.methods):
        response = client.open(path, method=method)
        assert response.status_code == 303 and response.headers["Location"] == "/signin/second-factor", path
    assert events(app, EventTag.CONSOLE_SIGNED_IN) == []


def test_an_action_posted_without_a_recent_key_changes_nothing(app, client, operator_id, person_id):
    """The form was loaded in a live console; the POST comes from a session whose key is stale."""
    sign_in_as(app, client, operator_id)
    form = client.get(f"/admin/people/{person_id}/disable")
    stale = app.test_client()
    sign_in_as(app, stale, operator_id, amr=APP_AMR)
    stale.set_cookie("passerelle_console", client.get_cookie("passerelle_console").value)  # not this session's
    for action in ("disable", "end-sessions", "reset-two-factor"):
        response = stale.post(f"/admin/people/{person_id}/{action}", data={
            "csrf_token": csrf_token(form.text), "reason": "Vol", "verification": "in_person_id_document"})
        assert response.status_code in (303, 400) and response.headers.get("Location", "") != f"/admin/people/{person_id}"
    assert_unchanged(app, person_id)


def test_the_console_session_ends_after_an_hour_however_busy(app, client, operator_id, clock):
    sign_in_as(app, client, operator_id)
    for _minute in range(0, 60, 9):
        assert client.get("/admin/").status_code == 200
        clock.advance(seconds=9 * 60)
    clock.advance(seconds=60)  # 64 minutes since entering, 1 since the last page
    assert client.get("/admin/").headers["Location"] == "/signin/second-factor"


# --- CSRF on every action ---------------------------------------------------------------------

def test_every_console_post_needs_this_browsers_csrf_token(app, client, operator_id, person_id, request_id):
    sign_in_as(app, client, operator_id)
    other = app.test_client()
    sign_in_as(app, other, make_agent(app, "ops2@example.ca", OPERATOR))
    foreign = csrf_token(other.get("/admin/").text)  # a token of another browser
    client.get("/admin/")
    known = {"user_id": person_id, "reference": request_id, "action": "disable", "decision": "approve"}
    paths = [path for _method, path in console_paths(app, lambda rule: "POST" in rule.methods, known)]
    paths.append("/admin/organizations/O123456789012/disable")
    assert len(paths) >= 8
    for path in paths:
        for data in ({"reason": "Vol", "verification": "in_person_id_document", "email": "zoe@example.ca"},
                     {"csrf_token": foreign, "reason": "Vol", "verification": "in_person_id_document"}):
            response = client.post(path, data=data)
            assert response.status_code == 400 and "This form has expired" in response.text, path
    assert_unchanged(app, person_id)
    assert count(app, ChangeRequest, ChangeRequest.state == "pending") == 1
    assert client.get("/admin/").status_code == 200  # the console session is still there


# --- A reason left empty ------------------------------------------------------------------------

@pytest.mark.parametrize("locale,message", [
    ("en", "Write the reason for this action: it is kept in the audit log."),
    ("fr", "Indiquez la raison de cette action"),
])
def test_every_reason_left_empty_is_a_clear_translated_refusal(app, client, operator_id, person_id, request_id,
                                                               locale, message):
    sign_in_as(app, client, operator_id)
    client.set_cookie("passerelle_lang", locale)
    forms = [f"/admin/people/{person_id}/{action}" for action in PERSON_ACTIONS]
    forms += [f"/admin/people/{person_id}/reset-two-factor", "/admin/organizations/O123456789012/disable",
              "/admin/organizations/O123456789012/enable", f"/admin/requests/{request_id}/approve",
              f"/admin/requests/{request_id}/reject"]
    for path in forms:
        page = client.get(path)
        assert page.status_code == 200, path
        for reason in ({"reason": ""}, {"reason": " \t\r\n "}, {}):
            response = client.post(path, data={"csrf_token": csrf_token(page.text),
                                               "verification": "in_person_id_document", **reason})
            assert response.status_code == 422 and message in response.text, (path, reason)
            assert f'<html lang="{locale}">' in response.text
    assert_unchanged(app, person_id)
    assert count(app, ChangeRequest, ChangeRequest.state == "pending") == 1
    with app.app_context():
        assert db.session.scalar(select(Organization.state)) == "active"


@pytest.mark.parametrize("data", [{"reason": "x" * 5000}, {"reason": "a\x00b"}, {"reason": ["a", "b"]},
                                  {"reason": "<b>oui</b>\u202e"}, {"reason": "é" * 1000}])
def test_odd_reasons_on_the_organization_forms_get_a_clear_answer(app, client, operator_id, request_id, data):
    sign_in_as(app, client, operator_id)
    for path in ("/admin/organizations/O123456789012/disable", f"/admin/requests/{request_id}/reject",
                 f"/admin/requests/{request_id}/approve"):
        form = client.get(path)
        response = client.post(path, data={"csrf_token": csrf_token(form.text), **data})
        assert 400 <= response.status_code < 500 or response.status_code == 303, (path, response.status_code)
        if response.status_code == 303:
            break  # the organization disabled or the request decided: the next forms change
    assert "<b>oui" not in client.get("/admin/requests").text


# --- Enumerating people: exact address only for the service desk --------------------------------

@pytest.mark.parametrize("email", ["zoe", "zoe@", "@example.ca", "example.ca", "zoe@example", "%@example.ca",
                                   "z%", "_oe@example.ca", "zoe@example.c_", "*@example.ca", "zoe@example.ca%",
                                   "zoe@example.ca,ana@example.ca", " zoe @example.ca"])
def test_a_partial_address_finds_nobody(app, client, desk_id, person_id, email):
    sign_in_as(app, client, desk_id)
    response = find_person(client, email)
    assert response.status_code in (200, 422) and "Citoyenne" not in response.text
    assert f"/admin/people/{person_id}" not in response.text


def test_the_service_desk_cannot_search_by_name_even_by_posting_the_field(app, client, desk_id, person_id):
    sign_in_as(app, client, desk_id)
    page = client.get("/admin/")
    for name in ("Zo", "Citoyenne", "%", "_"):
        response = client.post("/admin/", data={"csrf_token": csrf_token(page.text), "name": name})
        assert response.status_code == 422 and "Citoyenne" not in response.text


def test_the_service_desk_cannot_walk_person_pages_by_number(app, client, desk_id, person_id):
    """Person pages have numbers in their address: a service-desk agent opens only the people
    they found by exact address in this console session, else the same 404 as no account."""
    sign_in_as(app, client, desk_id)
    for path in (f"/admin/people/{person_id}", f"/admin/people/{person_id}/disable",
                 f"/admin/people/{person_id}/reset-two-factor"):
        response = client.get(path)
        assert response.status_code == 404 and "Citoyenne" not in response.text, path
    page = client.get("/admin/")
    refused = client.post(f"/admin/people/{person_id}/end-sessions", data={"csrf_token": csrf_token(page.text), "reason": "x"})
    assert refused.status_code == 404
    assert events(app, EventTag.CONSOLE_PERSON_VIEWED) == [] and events(app, EventTag.SESSIONS_ENDED) == []
    assert find_person(client, "zoe@example.ca").headers["Location"] == f"/admin/people/{person_id}"
    assert client.get(f"/admin/people/{person_id}").status_code == 200
    assert client.get(f"/admin/people/{person_id}/disable").status_code == 200


def test_a_search_in_an_earlier_console_session_opens_nothing_now(app, client, desk_id, person_id, clock):
    sign_in_as(app, client, desk_id)
    find_person(client, "zoe@example.ca")
    assert client.get(f"/admin/people/{person_id}").status_code == 200
    clock.advance(seconds=3601)
    sign_in_as(app, client, desk_id)  # a new key touch, a new console session
    assert client.get(f"/admin/people/{person_id}").status_code == 404


def test_operators_open_person_pages_from_an_organization(app, client, operator_id, request_id):
    sign_in_as(app, client, operator_id)
    with app.app_context():
        sam = db.session.scalar(select(User.id).where(User.email == "sam@example.ca"))
    assert f"/admin/people/{sam}" in client.get("/admin/organizations/O123456789012").text
    assert client.get(f"/admin/people/{sam}").status_code == 200


@pytest.mark.parametrize("number", ["2147483648", "99999999999999999999"])
def test_a_number_too_large_for_the_database_is_page_not_found(app, client, operator_id, number):
    """Larger than any row id: the route does not match (it reached the database, a 500)."""
    sign_in_as(app, client, operator_id)
    for path in (f"/admin/people/{number}", f"/admin/people/{number}/disable",
                 f"/admin/people/{number}/reset-two-factor"):
        response = client.get(path)
        assert response.status_code == 404 and "Page not found" in response.text, path


# --- Two agents resetting the same person at once: one effect ------------------------------------

@pytest.mark.parametrize("action,tag", [("reset-two-factor", EventTag.CONSOLE_TWO_FACTOR_RESET),
                                        ("disable", EventTag.ACCOUNT_DISABLED)])
def test_two_agents_acting_on_the_same_person_at_once_have_one_effect(app, desk_id, person_id, monkeypatch,
                                                                      action, tag):
    """Both agents' requests have read the person before either changes anything."""
    second_id = make_agent(app, "desk2@example.ca", SERVICE_DESK)
    clients = [app.test_client(), app.test_client()]
    tokens = []
    for agent_id, agent_client in zip((desk_id, second_id), clients):
        sign_in_as(app, agent_client, agent_id)
        find_person(agent_client, "zoe@example.ca")
        tokens.append(csrf_token(agent_client.get(f"/admin/people/{person_id}/{action}").text))
    both_read = threading.Barrier(2, timeout=10)
    target = PersonActions._target

    def read_then_wait(self, agent, user_id, reason):
        found = target(self, agent, user_id, reason)
        both_read.wait()
        return found

    monkeypatch.setattr(PersonActions, "_target", read_then_wait)
    responses = [None, None]

    def act(index: int) -> None:
        responses[index] = clients[index].post(f"/admin/people/{person_id}/{action}", data={
            "csrf_token": tokens[index], "verification": "callback_known_number",
            "reason": f"Rappel de l'agent {index + 1}"})

    threads = [threading.Thread(target=act, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [303, 422], [response.text[:300] for response in responses]
    loser = next(response for response in responses if response.status_code == 422)
    assert "Nothing to do" in loser.text
    assert len(events(app, tag)) == 1
    with app.app_context():
        user = db.session.get(User, person_id)
        assert (user.mfa_enrolled_at is None) if action == "reset-two-factor" else (user.disabled_at is not None)
    if action == "reset-two-factor":
        assert count(app, OutboxMessage, OutboxMessage.template == "two-factor-reset") == 1


# --- Markup in a reason or a name: escaped -------------------------------------------------------

def test_markup_in_names_and_reasons_is_shown_as_text(app, client, operator_id, request_id):
    with app.app_context():
        person = create_person("mallory@example.ca", given=MARKUP, family="<b>Bold</b>")
        add_app_and_codes(person)
        organization = db.session.scalar(select(Organization))
        organization.name_en = f"College {MARKUP}"
        request = db.session.scalar(select(ChangeRequest))
        request.reason = f"Left {MARKUP}"
        db.session.commit()
        mallory = person.id
    sign_in_as(app, client, operator_id)
    token = csrf_token(client.get("/admin/").text)
    pages = [client.post("/admin/", data={"csrf_token": token, "name": "bold"})]
    pages += [client.get(path) for path in (
        f"/admin/people/{mallory}", f"/admin/people/{mallory}/disable", f"/admin/people/{mallory}/reset-two-factor",
        "/admin/organizations", "/admin/organizations/O123456789012", "/admin/organizations/O123456789012/disable",
        "/admin/requests", f"/admin/requests/{request_id}/reject")]
    disabled = client.post(f"/admin/people/{mallory}/disable", data={"csrf_token": token, "reason": f"Fraude {MARKUP}"})
    assert disabled.status_code == 303
    pages.append(client.get(disabled.headers["Location"]))
    for page in pages:
        assert page.status_code == 200, page.request.path
        assert "<img" not in page.text and "<b>Bold" not in page.text, page.request.path
    assert "&lt;img src=x" in pages[1].text and "&lt;b&gt;Bold&lt;/b&gt;" in pages[0].text
    assert "&lt;img src=x" in pages[5].text and "&lt;img src=x" in pages[7].text
    [event] = events(app, EventTag.ACCOUNT_DISABLED)
    assert event.details["reason"] == f"Fraude {MARKUP}"  # kept as typed, escaped wherever shown
