"""The document portal's own services, settings, errors and models import no Flask (design.md,
Where code goes): views are the only code that touches the request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_layering import imported_modules, is_flask

PORTAL = Path(__file__).resolve().parents[3] / "clients" / "document_portal"
FLASK_FREE = sorted([
    *(PORTAL / name for name in ("claims.py", "config.py", "errors.py", "invitations_api.py", "mail.py", "signer.py",
                                 "demo.py", "db.py")),
    *(PORTAL / feature / name for feature in ("auth", "documents", "issuing")
      for name in ("services.py", "models.py", "bulk.py") if (PORTAL / feature / name).is_file()),
])


@pytest.mark.parametrize("path", FLASK_FREE, ids=lambda p: str(p.relative_to(PORTAL)))
def test_the_portals_services_do_not_import_flask(path):
    offending = sorted(module for module in imported_modules(path) if is_flask(module) and module != "flask_sqlalchemy")
    assert not offending, f"{path.relative_to(PORTAL)} imports {offending}"


def test_the_check_sees_the_services():
    assert {PORTAL / "issuing" / "services.py", PORTAL / "issuing" / "bulk.py", PORTAL / "auth" / "services.py",
            PORTAL / "documents" / "models.py"} <= set(FLASK_FREE)
