"""Domains talk one way: the packages of ``src/safesphere`` form a ladder, not a web.

Every ``import`` in the source is read (module and function level, ``TYPE_CHECKING`` blocks included: a
type is a dependency too). A module is a node of its package (``incidents``), except an HTTP router
(``router.py``, ``*_router.py``), which is a node of its own (``incidents.router``): routers sit above
every domain (they parse, authorize and call a service), so a router may import any domain, but no
domain imports a router and no router imports another router. Between the domain nodes there must be
no cycle. docs/ARCHITECTURE.md draws the resulting graph.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import safesphere

SOURCE = Path(safesphere.__file__).resolve().parent

BOTTOM_OF_THE_LADDER: dict[str, set[str]] = {
    "geo": set(),
    "scoring": {"geo"},
    "core": {"geo", "scoring"},
}
"""What the packages every domain builds on may import: great-circle geometry nothing, the safety score
(pure functions) only geometry, ``core`` those two (``Settings`` checks the scoring weights and the
retention floor against scoring's constants). Nothing of theirs may reach up into a domain."""


def _module_name(path: Path) -> list[str]:
    parts = ["safesphere", *path.relative_to(SOURCE).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _is_router(parts: list[str]) -> bool:
    return parts[-1] == "router" or parts[-1].endswith("_router")


def node_of(parts: list[str]) -> str | None:
    """The graph node of module ``parts`` (``["safesphere", "incidents", "service"]``); None for the
    package root and the top-level modules (``app``, ``cli``, ``models``), which may import anything."""
    if len(parts) < 2 or not (SOURCE / parts[1]).is_dir():
        return None
    return f"{parts[1]}.router" if _is_router(parts) else parts[1]


def _imported(tree: ast.Module, parts: list[str], is_package: bool) -> Iterator[tuple[list[str], int]]:
    """(module parts, line) of every import in a module, relative ones resolved; for ``from m import x``
    both ``m`` and ``m.x`` (``x`` may be a submodule)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split("."), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts if is_package else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = [*base, *(node.module.split(".") if node.module else [])]
            else:
                module = (node.module or "").split(".")
            yield module, node.lineno
            for alias in node.names:
                yield [*module, alias.name], node.lineno


def _submodule(parts: list[str]) -> list[str]:
    """``parts`` cut to the longest prefix that is a module or package of ours (drops imported names)."""
    for end in range(len(parts), 1, -1):
        path = SOURCE.joinpath(*parts[1:end])
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return parts[:end]
    return parts[:2]


def import_edges() -> dict[tuple[str, str], set[str]]:
    """(importing node, imported node) -> the ``file:line`` places that make the edge."""
    edges: dict[tuple[str, str], set[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = _module_name(path)
        source = node_of(parts)
        if source is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for imported, line in _imported(tree, parts, path.name == "__init__.py"):
            if imported[0] != "safesphere":
                continue
            target = node_of(_submodule(imported))
            if target is not None and target != source:
                place = f"{path.relative_to(SOURCE)}:{line}"
                edges.setdefault((source, target), set()).add(place)
    return edges


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_walker_sees_imports_at_every_level() -> None:
    """The walk finds a function-level import and a relative one (so a cycle cannot hide in either)."""
    tree = ast.parse("def f():\n    from safesphere.notify import outbox\nfrom . import models\n")
    found = [(".".join(parts), line) for parts, line in _imported(tree, ["safesphere", "alerts", "x"], False)]
    assert ("safesphere.notify.outbox", 2) in found
    assert ("safesphere.alerts.models", 3) in found
    assert node_of(["safesphere", "notify", "push_router"]) == "notify.router"
    assert node_of(["safesphere", "app"]) is None


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_router_imports_another_router() -> None:
    crossing = {
        edge: sorted(places)
        for edge, places in import_edges().items()
        if edge[0].endswith(".router") and edge[1].endswith(".router")
    }
    assert crossing == {}, "a router imports another router; share the shaping through schemas.py"


def test_no_domain_imports_a_router() -> None:
    upward = {
        edge: sorted(places)
        for edge, places in import_edges().items()
        if not edge[0].endswith(".router") and edge[1].endswith(".router")
    }
    assert upward == {}, "a domain imports a router"


def test_domains_form_no_cycle() -> None:
    edges = import_edges()
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    found = cycles(graph)
    detail = {
        " <-> ".join(component): {
            f"{s} -> {t}": sorted(edges[s, t]) for s in component for t in component if (s, t) in edges
        }
        for component in found
    }
    assert found == [], f"import cycles between packages: {detail}"


def test_core_geometry_and_scoring_reach_into_no_domain() -> None:
    reaching_up = {
        f"{source} -> {target}": sorted(places)
        for (source, target), places in import_edges().items()
        if source in BOTTOM_OF_THE_LADDER and target not in BOTTOM_OF_THE_LADDER[source]
    }
    assert reaching_up == {}, "a package at the bottom of the ladder imports one above it"
