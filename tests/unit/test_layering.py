"""Dependencies point down (docs/architecture.md, "Layers"): checked on the source, not hoped for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DB_DRIVERS = {"singlestoredb", "sqlite3", "pymysql", "MySQLdb", "mysql"}
HTTP = {"aiohttp"}


def _modules(path: Path) -> set[str]:
    """Every module a file imports, fully qualified (``from a.b import c`` gives ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _imports(path: Path) -> set[str]:
    return {name.split(".")[0] for name in _modules(path)}


# What a flow may use from ingestion_core: the registries, types and pure functions. Every I/O (the API client,
# the warehouse, the simulator, the pipelines that use them) goes through a task in tasks/.
FLOW_MAY_USE = {
    "ingestion_core.coin_uid",
    "ingestion_core.datasets",
    "ingestion_core.datasets.spec",
    "ingestion_core.db.target",
    "ingestion_core.errors",
    "ingestion_core.intervals",
    "ingestion_core.logging_setup",
    "ingestion_core.parameters",
    "ingestion_core.pipeline.plan",
    "ingestion_core.pipeline.request",
    "ingestion_core.pipeline.results",
    "ingestion_core.pipeline.runlog",
    "ingestion_core.pipeline.summary",
    "ingestion_core.settings",
    "ingestion_core.shadow.parameters",
    "ingestion_core.snapshots",
    "ingestion_core.snapshots.api_usage",
    "ingestion_core.snapshots.outcome",
    "ingestion_core.snapshots.spec",
    "ingestion_core.statuses",
}
# flows/demo.py is not a flow: it is `make demo`, a script that starts the simulator and reads the coverage tool.
# flows/_cli.py checks the login and the selection at the door, before Prefect starts and outside any flow (its
# imports stay lazy: tests/unit/test_cli.py checks that --help imports nothing heavy).
NOT_FLOWS = {"demo.py", "_cli.py"}


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_there_is_code_to_check() -> None:
    assert len(_files("ingestion_core")) > 5


@pytest.mark.parametrize("path", _files("ingestion_core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_ingestion_core_never_imports_prefect_or_upper_layers(path: Path) -> None:
    bad = _imports(path) & {"prefect", "tasks", "flows"}
    assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize("path", _files("ingestion_core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_drivers_and_http_stay_in_their_packages(path: Path) -> None:
    rel = path.relative_to(ROOT / "ingestion_core").parts
    imported = _imports(path)
    if rel[0] not in ("db",):
        assert not imported & DB_DRIVERS, f"{path} imports a database driver"
    if rel[0] not in ("api", "sim"):
        assert not imported & HTTP, f"{path} imports aiohttp"


# The pipeline runs datasets and snapshots over their sources: what it runs never imports it back.
UNDER_PIPELINE = ("datasets", "sources", "snapshots")


@pytest.mark.parametrize(
    "path",
    [p for package in UNDER_PIPELINE for p in _files(f"ingestion_core/{package}")],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_specs_and_sources_never_import_the_pipeline(path: Path) -> None:
    upward = {m for m in _modules(path) if m.startswith("ingestion_core.pipeline")}
    assert not upward, f"{path} imports {sorted(upward)}: move what it needs below the pipeline"


@pytest.mark.parametrize("path", _files("tasks"), ids=lambda p: str(p.relative_to(ROOT)))
def test_tasks_never_import_flows(path: Path) -> None:
    assert "flows" not in _imports(path)


@pytest.mark.parametrize(
    "path", [p for p in _files("flows") if p.name not in NOT_FLOWS], ids=lambda p: str(p.relative_to(ROOT))
)
def test_flows_use_tasks_for_io_and_only_pure_parts_of_ingestion_core(path: Path) -> None:
    core = {m for m in _modules(path) if m.split(".")[0] == "ingestion_core"}
    assert core <= FLOW_MAY_USE, f"{path} imports {sorted(core - FLOW_MAY_USE)}: put the I/O in a task"
    assert not _imports(path) & (DB_DRIVERS | HTTP | {"polars"}), f"{path} imports a driver, aiohttp or polars"


def test_every_flow_module_has_its_spec_and_every_spec_its_flow_module() -> None:
    from flows._registry import OTHER_FLOWS
    from ingestion_core.datasets import DATASETS
    from ingestion_core.snapshots import SNAPSHOTS

    modules = {p.stem for p in _files("flows") if not p.name.startswith("_") and p.name not in NOT_FLOWS}
    assert modules == set(DATASETS) | set(SNAPSHOTS) | set(OTHER_FLOWS)
