"""Agents, a person and a change request the console's integration tests share (issue 16)."""

from __future__ import annotations

import pytest

from idp.console.roles import OPERATOR, SERVICE_DESK
from idp.extensions import db
from tests.console_support import add_app_and_codes, add_key, create_person, make_agent
from tests.orgs_support import org_service, org_with_members


@pytest.fixture
def desk_id(app):
    return make_agent(app, "desk@example.ca", SERVICE_DESK)


@pytest.fixture
def operator_id(app):
    return make_agent(app, "ops@example.ca", OPERATOR)


@pytest.fixture
def person_id(app):
    """zoe@example.ca: an authenticator app, recovery codes and the security key "Blue key"."""
    with app.app_context():
        user = create_person("zoe@example.ca", locale="en")
        add_app_and_codes(user)
        add_key(user, nickname="Blue key")
        db.session.commit()
        return user.id


@pytest.fixture
def request_id(app):
    """A pending request of the primary user (pat@example.ca) to remove sam@example.ca;
    returns its public id."""
    with app.app_context():
        service = org_service()
        organization, (_primary, primary_user), [(secondary, _user)] = org_with_members(service)
        request = service.submit_request(organization.id, by_user_id=primary_user.id, kind="remove_secondary",
                                         reason="Sam a quitté le collège", target_membership_id=secondary.id)
        db.session.commit()
        return request.public_id
