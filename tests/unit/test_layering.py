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
        *(IDP / "orgs" / name for name in ("requests.py", "text.py")),
        # The console's services: everything but its views, forms and request glue (web.py).
        *(path for path in (IDP / "console").glob("*.py")
          if not path.name.endswith(("views.py", "forms.py")) and path.name != "web.py"),
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
    assert {"oidc/clients.py", "security/secrets.py", "console/people.py", "console/clients.py"} <= names


def test_the_layering_check_catches_a_flask_import(tmp_path):
    sample = tmp_path / "services.py"
    sample.write_text("import os\nfrom flask import request\nfrom flask_sqlalchemy import SQLAlchemy\n")
    assert sorted(module for module in imported_modules(sample) if is_flask(module)) == ["flask", "flask_sqlalchemy"]


def module_name(path: Path) -> str:
    parts = path.relative_to(IDP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each idp module and the idp modules it imports, function-level imports included
    (an import deferred into a function is still a circle, only hidden)."""
    modules = {module_name(path): path for path in root.rglob("*.py") if "migrations" not in path.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules.keys()
                edges.update(submodules or {node.module})
        graph[name] = {edge for edge in edges if edge in modules and edge != name}
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circles():
    """design.md, Style: no import circles. Each circle found is listed."""
    assert import_circles(import_graph(IDP)) == []


def test_the_circle_check_finds_a_circle_hidden_in_a_function():
    graph = {"idp.a": {"idp.b"}, "idp.b": {"idp.c"}, "idp.c": {"idp.a"}, "idp.d": {"idp.a"}}
    assert import_circles(graph) == [["idp.a", "idp.b", "idp.c"]]


def is_views_module(module: str) -> bool:
    """A module of pages: views.py, *_views.py, or a JSON API (api.py)."""
    name = module.rsplit(".", 1)[-1]
    return name in ("views", "api") or name.endswith("_views")


def feature_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else module


def views_importing_other_features_views(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted(
        (module, imported)
        for module, imports in graph.items() if is_views_module(module)
        for imported in imports if is_views_module(imported) and feature_of(imported) != feature_of(module)
    )


def test_a_features_views_never_import_another_features_views():
    """design.md, Style: what several features' pages share lives in <feature>/web.py."""
    assert views_importing_other_features_views(import_graph(IDP)) == []


def test_the_views_check_tells_a_features_own_views_from_another_features():
    graph = {"idp.mfa.setup_views": {"idp.mfa.views"}, "idp.recovery.views": {"idp.mfa.setup_views", "idp.mfa.web"}}
    assert views_importing_other_features_views(graph) == [("idp.recovery.views", "idp.mfa.setup_views")]
