"""The portals keep the IdP's rules of structure (design.md, Style): no import circles, and a
feature's views never import another feature's views (what several features' pages share
lives in <feature>/web.py or the portal's web.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_layering import import_circles, import_graph, is_views_module

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
PORTALS = ("institution_portal", "document_portal", "portal_kit")


def portal_feature(module: str) -> str:
    """clients.<portal>.<feature>.views -> <feature>; a module at the portal's top is its own."""
    parts = module.split(".")
    return parts[2] if len(parts) > 3 else module


def views_importing_other_features_views(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted(
        (module, imported)
        for module, imports in graph.items() if is_views_module(module)
        for imported in imports if is_views_module(imported) and portal_feature(imported) != portal_feature(module)
    )


@pytest.mark.parametrize("portal", PORTALS)
def test_no_import_circles_in_a_portal(portal):
    assert import_circles(import_graph(CLIENTS / portal)) == []


@pytest.mark.parametrize("portal", PORTALS)
def test_a_portal_features_views_never_import_another_features_views(portal):
    assert views_importing_other_features_views(import_graph(CLIENTS / portal)) == []


def test_the_views_check_tells_features_apart():
    graph = {"clients.p.letters.views": {"clients.p.users.views", "clients.p.letters.web"},
             "clients.p.users.views": {"clients.p.users.web"}}
    assert views_importing_other_features_views(graph) == [("clients.p.letters.views", "clients.p.users.views")]
