"""House style, enforced: services and helpers never import Flask (design.md, Where code goes).

Keeping Flask out of them is what lets the CLI, the tests and any future worker call them
without a request, and keeps request data from leaking into domain decisions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

IDP = Path(__file__).resolve().parents[2] / "idp"
FLASK_FREE = sorted(
    {
        *IDP.glob("*/services.py"),
        *(IDP / "security").glob("*.py"),
        *(IDP / "oidc" / name for name in ("clients.py", "errors.py", "keys.py", "claims.py")),
        # Domain errors; idp/web/errors.py is the error-page wiring, a Flask module by design.
        *(path for path in IDP.glob("*/errors.py") if path.parent.name != "web"),
    }
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def is_flask(module: str) -> bool:
    top = module.split(".")[0]
    return top == "flask" or top.startswith("flask_") or module in ("idp.context", "idp.extensions")


@pytest.mark.parametrize("path", [path for path in FLASK_FREE if path.exists()], ids=lambda p: str(p.relative_to(IDP)))
def test_services_and_helpers_do_not_import_flask(path):
    offending = sorted(module for module in imported_modules(path) if is_flask(module))
    assert not offending, f"{path.relative_to(IDP)} imports {offending}: pass collaborators in instead"


def test_the_layering_check_sees_the_files_it_guards():
    names = {str(path.relative_to(IDP)) for path in FLASK_FREE if path.exists()}
    assert {"oidc/clients.py", "security/secrets.py"} <= names


def test_the_layering_check_catches_a_flask_import(tmp_path):
    sample = tmp_path / "services.py"
    sample.write_text("import os\nfrom flask import request\nfrom flask_sqlalchemy import SQLAlchemy\n")
    assert sorted(module for module in imported_modules(sample) if is_flask(module)) == ["flask", "flask_sqlalchemy"]
