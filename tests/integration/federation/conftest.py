"""A partner (a second Passerelle on loopback) and the broker configured to use it."""

from __future__ import annotations

import pytest

from idp.extensions import db
from tests.conftest import _settings_marker, build_app
from tests.federation_support import start_partner, write_partners_file


@pytest.fixture
def partner(tmp_path, clock):
    op = start_partner(tmp_path, clock)
    yield op
    op.server.stop()
    with op.app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def broker(request, tmp_path, database_uri, clock, partner):
    """Passerelle with the partner in its partners file (the issue's broker)."""
    path = write_partners_file(tmp_path / "partners.toml", partner)
    app = build_app(database_uri, clock, PARTNERS_FILE=str(path), **_settings_marker(request))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def http(broker):
    """The person's browser at the broker."""
    return broker.test_client()
