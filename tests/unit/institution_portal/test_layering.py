"""The portals stand alone (design.md, The portals): nothing under clients/ imports `idp`,
and the institution portal's services and helpers import no Flask."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_layering import imported_modules, is_flask

CLIENTS = Path(__file__).resolve().parents[3] / "clients"
PORTAL = CLIENTS / "institution_portal"
FLASK_FREE = sorted({*PORTAL.glob("*/services.py"), PORTAL / "config.py", PORTAL / "errors.py", PORTAL / "claims.py"})


@pytest.mark.parametrize("path", sorted(CLIENTS.rglob("*.py")), ids=lambda p: str(p.relative_to(CLIENTS)))
def test_no_client_imports_the_identity_provider(path):
    offending = sorted(module for module in imported_modules(path) if module.split(".")[0] == "idp")
    assert not offending, f"{path.relative_to(CLIENTS)} imports {offending}: talk to Passerelle over HTTP"


@pytest.mark.parametrize("path", FLASK_FREE, ids=lambda p: str(p.relative_to(PORTAL)))
def test_portal_services_do_not_import_flask(path):
    offending = sorted(module for module in imported_modules(path) if is_flask(module))
    assert not offending, f"{path.relative_to(PORTAL)} imports {offending}"


def test_the_checks_see_the_portal():
    assert PORTAL / "auth" / "services.py" in FLASK_FREE and PORTAL / "terms" / "services.py" in FLASK_FREE
