"""No import cycles among our own modules: checked on the source (the same AST style as test_layering.py).

Every import counts, wherever it stands: at the top, under ``if TYPE_CHECKING:`` or inside a function. Moving an
import out of sight does not remove the dependency, it only delays the failure to whichever import order first
trips over it, so a cycle is fixed by moving what both sides need into the lower module.

An edge goes to the module an import names: ``from a.b import c`` reaches ``a.b.c`` when that is a module of ours,
else ``a.b``. The parent packages Python runs first (``a/__init__.py`` before ``a.b``) are not edges: a package that
re-exports its submodules would otherwise be a cycle with every one of them that imports a sibling.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ingestion_core", "flows", "tasks", "deployments")


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterable[tuple[str, str | None]]:
    """(module, name imported from it or None) for each name of one import statement, relative ones resolved."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, None
        return
    base = node.module or ""
    if node.level:
        # A relative import counts from the package: the module itself when it is a package's __init__.
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    for alias in node.names:
        yield base, alias.name


def import_graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    """Module -> the modules of ``packages`` it imports anywhere in its source."""
    files = {_module_name(root, p): p for package in packages for p in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for base, name in _imported(node, module, path.name == "__init__.py"):
                if name is not None and f"{base}.{name}" in files:
                    edges.add(f"{base}.{name}")
                elif base in files:
                    edges.add(base)
        edges.discard(module)
        graph[module] = edges
    return graph


def import_groups(graph: Mapping[str, set[str]]) -> list[set[str]]:
    """The groups of modules that import each other, directly or through others (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a deep import chain cannot hit the recursion limit.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group: set[str] = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(group)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def import_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle (``a -> b -> ... -> a``) per group of modules that import each other, sorted by name.

    The cycle is the group's shortest; fixing it may leave another in the same group, which the next run names.
    """
    return sorted(_shortest_cycle(graph, group) for group in import_groups(graph))


def _shortest_cycle(graph: Mapping[str, set[str]], group: set[str]) -> list[str]:
    """The shortest cycle inside ``group`` (the first by name among equals): the most direct one to fix."""
    return min((_cycle_through(graph, group, start) for start in group), key=lambda c: (len(c), c))


def _cycle_through(graph: Mapping[str, set[str]], group: set[str], start: str) -> list[str]:
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & group):
                if child == start:
                    return [*paths[node], start]
                if child not in paths:
                    paths[child] = [*paths[node], child]
                    following.append(child)
        frontier = following
    raise AssertionError(f"{sorted(group)} is not strongly connected")


def test_there_is_a_graph_to_check() -> None:
    graph = import_graph(ROOT, PACKAGES)
    assert len(graph) > 100 and sum(map(len, graph.values())) > 300


def test_no_module_imports_itself_back() -> None:
    graph = import_graph(ROOT, PACKAGES)
    lines = []
    for group in sorted(import_groups(graph), key=min):
        cycle = _shortest_cycle(graph, group)
        others = sorted(group - set(cycle))
        lines.append(" -> ".join(cycle) + (f" (and through {', '.join(others)})" if others else ""))
    assert not lines, "import cycles (move what both sides need into the lower module):\n" + "\n".join(lines)


def test_a_planted_cycle_is_found_however_its_imports_are_hidden(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "low.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub import high\n"
    )
    (package / "sub" / "high.py").write_text("def f():\n    from .. import mid\n")
    (package / "mid.py").write_text("import pkg.low\n")
    (package / "alone.py").write_text("from pkg import mid\n")

    assert import_cycles(import_graph(tmp_path, ["pkg"])) == [["pkg.low", "pkg.sub.high", "pkg.mid", "pkg.low"]]
