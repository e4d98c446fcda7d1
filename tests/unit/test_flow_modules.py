"""Every flow module says where its flow is written, the same way, and says it truly (flows/_registry.py).

A flow module holds no ``@flow`` (its flow is built on first read, so ``--help`` imports no Prefect). Each declares
``FLOW = FlowSource(...)``, names the same places in its docstring, and serves exactly the flow written there.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

from flows._registry import OTHER_FLOWS, FlowSource
from ingestion_core.datasets import DATASETS
from ingestion_core.snapshots import SNAPSHOTS

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted([*DATASETS, *SNAPSHOTS, *OTHER_FLOWS])
# Where each kind of flow is written: every dataset's flow is built alike, and so is every snapshot's.
BUILT_FROM_A_SPEC = {
    **dict.fromkeys(DATASETS, ("flows/_timeseries.py:run_timeseries", "flows/_timeseries.py:timeseries_flow")),
    **dict.fromkeys(SNAPSHOTS, ("flows/_snapshot.py:run_snapshot", "flows/_snapshot.py:snapshot_flow")),
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"flows.{name}")


def _split(place: str) -> tuple[Path, str]:
    path, function = place.split(":")
    return ROOT / path, function


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _is_flow_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Name) and target.id == "flow"


def _calls_flow(function: ast.FunctionDef) -> bool:
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "flow"
        for node in ast.walk(function)
    )


@pytest.mark.parametrize("name", NAMES)
def test_the_module_declares_where_its_flow_is_written(name: str) -> None:
    declared = _module(name).FLOW
    assert isinstance(declared, FlowSource) and declared.name == name
    if name in BUILT_FROM_A_SPEC:
        assert (declared.body, declared.built_by) == BUILT_FROM_A_SPEC[name]
    else:  # written by hand: the body is the @flow itself, in a module of its own
        assert not declared.built_by
        path, function = _split(declared.body)
        assert path.parent == ROOT / "flows" and path.name.startswith("_"), declared.body
        assert any(map(_is_flow_decorator, _functions(path)[function].decorator_list)), f"{declared.body} is no @flow"
    for place in filter(None, (declared.body, declared.built_by)):
        path, function = _split(place)
        assert function in _functions(path), f"{name}: {place} does not exist"


@pytest.mark.parametrize("name", NAMES)
def test_the_docstring_names_the_same_places(name: str) -> None:
    module = _module(name)
    text = module.__doc__ or ""
    lines = text.splitlines()
    assert f"The flow ``{name}`` is " in text
    assert any(line.startswith(f"- body: ``{module.FLOW.body}``") for line in lines), f"flows/{name}.py: no body line"
    if module.FLOW.built_by:
        assert f"- built by: ``{module.FLOW.built_by}``" in lines, f"flows/{name}.py: no built-by line"
    spec = DATASETS.get(name) or SNAPSHOTS.get(name)
    if spec is not None:  # and the spec it is built from, found where it is defined
        (home,) = {
            m.__name__
            for m in list(sys.modules.values())
            if m is not None
            and m.__name__.startswith(("ingestion_core.datasets.", "ingestion_core.snapshots."))
            and any(value is spec for value in vars(m).values())
        }
        kind = "dataset" if name in DATASETS else "snapshot"
        assert f"- from the {kind} spec ``{home}``" in lines, f"flows/{name}.py: no line naming {home}"


@pytest.mark.parametrize("name", NAMES)
def test_the_module_serves_the_flow_written_there(name: str) -> None:
    module = _module(name)
    served = getattr(module, name)
    body_path, body = _split(module.FLOW.body)
    home = ".".join(body_path.relative_to(ROOT).with_suffix("").parts)
    if module.FLOW.built_by:  # a closure made by the builder, calling the body
        _, builder = _split(module.FLOW.built_by)
        assert served.fn.__module__ == home
        assert served.fn.__code__.co_qualname.split(".")[0] == builder
        assert body in served.fn.__code__.co_names
    else:
        assert served is getattr(importlib.import_module(home), body)


def test_every_flow_in_flows_is_declared_by_a_flow_module() -> None:
    declared = {place for name in NAMES for place in (_module(name).FLOW.body, _module(name).FLOW.built_by) if place}
    found = set()
    for path in sorted((ROOT / "flows").glob("*.py")):
        for function in _functions(path).values():
            if any(map(_is_flow_decorator, function.decorator_list)) or _calls_flow(function):
                found.add(f"flows/{path.name}:{function.name}")
    assert found, "no @flow found: the search is broken"
    assert found <= declared, f"flows no flow module declares: {sorted(found - declared)}"
