"""`idp` through click's CliRunner, on the test app, for the organizations tests."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from idp.cli import main


@pytest.fixture
def run_idp(app):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), obj=app, catch_exceptions=False)

    return run
