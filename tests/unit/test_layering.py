"""Dependencies point down (design §2): checked on the source, not hoped for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DB_DRIVERS = {"singlestoredb", "sqlite3", "pymysql", "MySQLdb", "mysql"}
HTTP = {"aiohttp"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


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


@pytest.mark.parametrize("path", _files("tasks"), ids=lambda p: str(p.relative_to(ROOT)))
def test_tasks_never_import_flows(path: Path) -> None:
    assert "flows" not in _imports(path)
