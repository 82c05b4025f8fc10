"""signing/ is services only: no Flask, no database (the views and the app compose it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_layering import imported_modules, is_flask

SIGNING = Path(__file__).resolve().parents[4] / "clients" / "document_portal" / "signing"
MODULES = sorted(SIGNING.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_signing_imports_neither_flask_nor_a_database(path):
    offending = sorted(module for module in imported_modules(path)
                       if is_flask(module) or module.split(".")[0] in ("sqlalchemy", "idp"))
    assert not offending, f"{path.name} imports {offending}"


def test_the_check_sees_the_modules():
    assert {"pades.py", "verification.py", "intake.py"} <= {path.name for path in MODULES}
