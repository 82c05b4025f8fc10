"""A real server per test module (booting one takes seconds), on its own SQLite file."""

from __future__ import annotations

import pytest

from tests.integration.web.served import served_idp
from tests.support import FrozenClock


def serve(kind: str, tmp_path_factory):
    database = tmp_path_factory.mktemp("served") / "passerelle.sqlite3"
    return served_idp(kind, f"sqlite:///{database}", FrozenClock())


@pytest.fixture(scope="module", params=["granian", "gunicorn"])
def served(request, tmp_path_factory):
    """(server name, port): the IdP as `make run` serves it (granian) and as its alternative does."""
    with serve(request.param, tmp_path_factory) as port:
        yield request.param, port


@pytest.fixture(scope="module")
def served_by_granian(tmp_path_factory):
    """The port of the IdP served by granian with config/granian.env, as `make run` serves it."""
    with serve("granian", tmp_path_factory) as port:
        yield port
