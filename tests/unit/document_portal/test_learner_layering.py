"""The learner side's services, errors and models import no Flask (design.md, Where code goes):
views are the only code that touches the request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_layering import imported_modules, is_flask

PORTAL = Path(__file__).resolve().parents[3] / "clients" / "document_portal"
FLASK_FREE = sorted(path for feature in ("learner", "shares", "verify")
                    for path in (PORTAL / feature).glob("*.py")
                    if path.name in ("services.py", "errors.py", "models.py"))


@pytest.mark.parametrize("path", FLASK_FREE, ids=lambda p: str(p.relative_to(PORTAL)))
def test_learner_services_do_not_import_flask(path):
    offending = sorted(module for module in imported_modules(path) if is_flask(module))
    assert not offending, f"{path.relative_to(PORTAL)} imports {offending}"


def test_the_check_sees_the_services():
    assert {PORTAL / "shares" / "services.py", PORTAL / "verify" / "services.py", PORTAL / "learner" / "services.py"} <= set(FLASK_FREE)
