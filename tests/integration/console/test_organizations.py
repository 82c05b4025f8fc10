"""Organizations in the console (issue 16): operators only (a service-desk agent gets a 403
page, audited), the list, one organization and its members, and the change-requests queue
decided with a reason through the organizations service, the approval behind the key."""

from __future__ import annotations

from sqlalchemy import select

from idp.audit import EventTag, SecurityEvent
from idp.console.roles import SERVICE_DESK
from idp.extensions import db
from idp.orgs.models import ChangeRequest, Membership, MembershipState
from tests.console_support import make_agent, sign_in_as
from tests.oidc_support import csrf_token


def test_service_desk_gets_a_403_page_on_organizations(app, client, request_id):
    desk_id = make_agent(app, "desk@example.ca", SERVICE_DESK)
    sign_in_as(app, client, desk_id)
    for path in ("/admin/organizations", "/admin/requests", f"/admin/requests/{request_id}/approve"):
        page = client.get(path)
        assert page.status_code == 403 and "Not part of your role" in page.text
    assert "Change requests" not in client.get("/admin/").text
    with app.app_context():
        refused = db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.CONSOLE_ACCESS_REFUSED))).all()
        assert len(refused) == 3 and refused[0].details["agent_id"] == desk_id


def test_operator_lists_organizations_and_members(app, client, operator_id, request_id):
    sign_in_as(app, client, operator_id)
    listing = client.get("/admin/organizations")
    assert listing.status_code == 200 and "Imaginary College" in listing.text and "O123456789012" in listing.text
    page = client.get("/admin/organizations/O123456789012")
    assert page.status_code == 200 and "pat@example.ca" in page.text and "sam@example.ca" in page.text
    assert client.get("/admin/organizations/nope").status_code == 404
    assert client.get("/admin/organizations/%00").status_code == 404


def test_operator_approves_a_request_with_a_reason(app, client, operator_id, request_id):
    sign_in_as(app, client, operator_id)
    queue = client.get("/admin/requests")
    assert queue.status_code == 200 and "Sam a quitté le collège" in queue.text
    form = client.get(f"/admin/requests/{request_id}/approve")
    assert form.status_code == 200
    empty = client.post(f"/admin/requests/{request_id}/approve", data={"csrf_token": csrf_token(form.text), "reason": ""})
    assert empty.status_code == 422 and "Write the reason for this action" in empty.text
    markup = client.post(f"/admin/requests/{request_id}/approve",
                         data={"csrf_token": csrf_token(form.text), "reason": "<b>oui</b>"})
    assert markup.status_code == 422 and "Remove the angle brackets" in markup.text
    done = client.post(f"/admin/requests/{request_id}/approve",
                       data={"csrf_token": csrf_token(form.text), "reason": "Confirmé par courriel"})
    assert done.status_code == 303 and done.headers["Location"] == "/admin/requests?done=approve"
    assert "The request was approved" in client.get(done.headers["Location"]).text
    with app.app_context():
        request = db.session.scalar(select(ChangeRequest).where(ChangeRequest.public_id == request_id))
        assert request.state == "approved" and request.decision_reason == "Confirmé par courriel"
        assert request.decided_by == "ops@example.ca (console)"
        ended = db.session.scalar(select(Membership).where(Membership.state == MembershipState.ENDED))
        assert ended is not None
        [event] = db.session.scalars(select(SecurityEvent).where(SecurityEvent.tag == str(EventTag.CONSOLE_REQUEST_DECIDED)))
        assert event.details["agent_id"] == operator_id and event.details["reason"] == "Confirmé par courriel"
    # Decided already: a clear message, and the next approval would ask for the key again.
    again = client.get(f"/admin/requests/{request_id}/reject")
    again = client.post(f"/admin/requests/{request_id}/reject", data={"csrf_token": csrf_token(again.text), "reason": "non"})
    assert again.status_code == 422 and "already decided" in again.text
    assert client.get(f"/admin/requests/{request_id}/approve").headers["Location"] == "/signin/second-factor"


def test_bad_request_references_are_404(app, client, operator_id, request_id):
    sign_in_as(app, client, operator_id)
    assert client.get("/admin/requests/nope/approve").status_code == 404
    assert client.get(f"/admin/requests/{request_id}/maybe").status_code == 404


def test_operator_disables_then_enables_an_organization_with_a_reason(app, client, operator_id, request_id):
    sign_in_as(app, client, operator_id)
    page = client.get("/admin/organizations/O123456789012")
    assert "/admin/organizations/" in page.text and "Disable the organization" in page.text
    reference = "O123456789012"  # a number or a public id
    form = client.get(f"/admin/organizations/{reference}/disable")
    assert form.status_code == 200
    empty = client.post(f"/admin/organizations/{reference}/disable", data={"csrf_token": csrf_token(form.text), "reason": ""})
    assert empty.status_code == 422
    done = client.post(f"/admin/organizations/{reference}/disable",
                       data={"csrf_token": csrf_token(form.text), "reason": "Désignation retirée"})
    assert done.status_code == 303
    assert "The organization is disabled" in client.get(done.headers["Location"]).text
    with app.app_context():
        [event] = db.session.scalars(select(SecurityEvent).where(
            SecurityEvent.tag == str(EventTag.CONSOLE_ORGANIZATION_CHANGED)))
        assert event.details["agent_id"] == operator_id and event.details["reason"] == "Désignation retirée"
    enable = client.get(f"/admin/organizations/{reference}/enable")  # not destructive: no key asked
    again = client.post(f"/admin/organizations/{reference}/enable", data={"csrf_token": csrf_token(enable.text), "reason": "Rétablie"})
    assert again.status_code == 303
    twice = client.post(f"/admin/organizations/{reference}/enable", data={"csrf_token": csrf_token(enable.text), "reason": "Encore"})
    assert twice.status_code == 422 and "already in this state" in twice.text
    assert client.get(f"/admin/organizations/{reference}/explode").status_code == 404
