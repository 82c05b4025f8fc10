"""House style, enforced: past about 400 lines a module is split by job (design.md, Module
layout), so no module grows into warehouse's 2,100-line views.py."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400
MODULES = sorted(
    path
    for package in ("idp", "clients")
    for path in (ROOT / package).rglob("*.py")
    if "migrations" not in path.parts
)


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_module_stays_within_the_size_limit(path):
    assert line_count(path) <= LIMIT, f"{path.relative_to(ROOT)} has {line_count(path)} lines: split it by job"


def test_the_size_check_sees_the_modules_it_guards():
    names = {str(path.relative_to(ROOT)) for path in MODULES}
    assert {"idp/accounts/views.py", "idp/invitations/services.py", "clients/demo_rp/views.py"} <= names
