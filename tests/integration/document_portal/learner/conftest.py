"""Fixtures of the learner side's integration tests (dp-learner): the document portal on a
fresh SQLite file signing with the demo authority, its test client and clock, and a foreign
authority with a look-alike school."""

from __future__ import annotations

import pytest

from clients.document_portal.signing.demo_pki import make_demo_pki
from tests.document_portal_learner_support import build_app
from tests.support import FrozenClock


@pytest.fixture(scope="session")
def demo_pki(tmp_path_factory):
    return make_demo_pki(tmp_path_factory.mktemp("dp-learner-pki"))


@pytest.fixture(scope="session")
def foreign_pki(tmp_path_factory):
    """Another authority with its own « École Imaginaire »: a look-alike the portal does not trust."""
    return make_demo_pki(tmp_path_factory.mktemp("dp-learner-foreign-pki"))


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def app(tmp_path, demo_pki, clock):
    return build_app(tmp_path / "portal.db", demo_pki, clock)


@pytest.fixture
def client(app):
    return app.test_client()
