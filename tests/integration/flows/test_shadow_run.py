"""Shadow mode and the comparison, on MariaDB with legacy-shaped tables and the flows on a real Prefect server.

1. Legacy-shaped tables exist in their own schema (no keys, as the legacy DDL and de-duplication left them).
2. Every flow runs with ``TARGET_SCHEMA`` set to a shadow schema: nothing outside the shadow schema is created or
   written (checked through ``information_schema`` and table checksums).
3. The legacy tables are then filled the way the legacy scripts stored those same facts (zero values for absent
   ones, 0 for the spot and exchange booleans, a year in the index message timestamps, older duplicate copies in the
   unkeyed tables, other wall clocks), and ``compare`` must find only intended differences in every table.
4. A corrupted shadow value and a missing shadow row are reported as unexpected, and the command exits 1.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from singlestoredb.connection import connect

from flows._registry import build_flow
from flows.validate_shadow import validate_shadow
from ingestion_core.db.compare import compare_schemas
from ingestion_core.db.schema_sql import column_definition, quote
from ingestion_core.db.tables import TABLES, TableSpec, get_table
from ingestion_core.db.tables.columns import WALL_CLOCK_NAMES
from ingestion_core.settings import load_settings
from tests.integration.flows.conftest import FlowEnv, artifact_rows, run_flow
from tests.plugin_db import MARIADB_HOST, MARIADB_PORT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
RICH = {"spot_markets": ("kraken", "coinbase"), "pairs_per_market": 3, "assets": 10, "index_instruments": 4}
RUNS: list[tuple[str, dict[str, Any]]] = [
    ("futures_instruments", {}),
    ("asset_metadata", {}),
    ("exchanges_general", {}),
    ("spot_instruments", {}),
    ("futures_ohlcv", {"interval": "1d"}),
    ("futures_ohlcv", {"interval": "1h"}),
    ("futures_funding_rate", {"interval": "1d"}),
    ("futures_open_interest", {"interval": "1d"}),
    ("spot_ohlcv", {"asset_limit": 100}),
    ("index_ohlcv", {"asset_limit": 3, "history_days": 30}),
    ("api_usage", {}),
]
#: Tables the legacy DDL (or its de-duplication) left without a key: they hold older duplicate copies.
UNKEYED = {
    "market.cc_assets",
    "market.cc_asset_market_data",
    "market.cc_exchange_spot_details",
    "market.cc_exchanges_futures_details",
    "market.cc_rate_limit_status",
}
#: Booleans the legacy spot and exchanges-general scripts always stored as 0 (S-2, E-2).
ZERO_BOOLEANS = {"market.cc_instruments_spot", "market.cc_exchange_spot_details", "market.cc_exchanges_general"}


def _conn(database: str | None = None) -> Any:
    return connect(host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="", database=database)


def _sql(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    conn = _conn()
    try:
        cursor = conn.cursor()
        cursor.execute(statement, params or [])
        return [tuple(r) for r in cursor.fetchall()] if cursor.description else []
    finally:
        conn.close()


@pytest.fixture
def schemas() -> Iterator[tuple[str, str]]:
    """A legacy schema and a shadow schema, dropped afterwards."""
    tag = uuid.uuid4().hex[:8]
    legacy, shadow = f"legacy_{tag}", f"shadow_{tag}"
    yield legacy, shadow
    for name in (legacy, shadow):
        _sql(f"DROP DATABASE IF EXISTS `{name}`")


def _create_legacy_table(schema: str, spec: TableSpec) -> None:
    """The table as the legacy DDL and de-duplication left it: the contract's columns, no key."""
    columns = ", ".join(column_definition(c, spec, "mysql", keys=False, exact_keys=False) for c in spec.columns)
    _sql(f"CREATE TABLE `{schema}`.`{spec.name}` ({columns}) DEFAULT CHARSET=utf8mb4")


def _legacy_value(table: str, spec: TableSpec, column: str, value: Any) -> Any:
    """How the legacy scripts stored the value the new pipeline stored (docs/field-mapping.md §1.2, §8)."""
    kind = spec.column(column).sql_type
    if column in WALL_CLOCK_NAMES and isinstance(value, datetime):
        return value - timedelta(days=1)  # written by another run: never compared
    if column.endswith("_message_timestamp") and isinstance(value, int):
        return datetime.fromtimestamp(value, UTC).year  # IX-1: the server's cast of datetime text
    if kind == "BOOLEAN" and table in ZERO_BOOLEANS:
        return 0
    if value is None and column not in spec.primary_key:
        if kind == "DATETIME":
            return "0000-00-00 00:00:00"  # an empty CSV field in a DATETIME column
        if kind in ("BIGINT", "INT", "DOUBLE", "BOOLEAN"):
            return 0
        if kind.startswith("VARCHAR") or kind == "TEXT":
            return ""
    return value


def _fill_legacy(legacy: str, shadow: str, table: str) -> int:
    """Copy the shadow rows into the legacy table the legacy way; returns the rows written."""
    spec = get_table(table)
    names = list(spec.column_names)
    rows = _sql(f"SELECT {', '.join(quote(n, 'mysql') for n in names)} FROM `{shadow}`.`{spec.name}`")
    out = [[_legacy_value(table, spec, n, v) for n, v in zip(names, row, strict=True)] for row in rows]
    if table in UNKEYED and out:
        stale = list(out[0])  # an older copy the REPLACE-as-insert left behind
        for i, name in enumerate(names):
            if name in WALL_CLOCK_NAMES and isinstance(stale[i], datetime):
                stale[i] = stale[i] - timedelta(days=30)
        out.append(stale)
    conn = _conn()
    try:
        cursor = conn.cursor()
        cursor.execute("SET SESSION sql_mode = ''")  # the legacy server accepted zero dates
        marks = ", ".join(["%s"] * len(names))
        cursor.executemany(f"INSERT INTO `{legacy}`.`{spec.name}` VALUES ({marks})", out)
        conn.commit()
    finally:
        conn.close()
    return len(out)


def _checksums(schema: str) -> dict[str, int]:
    tables = [r[0] for r in _sql("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", [schema])]
    return {t: int(_sql(f"CHECKSUM TABLE `{schema}`.`{t}`")[0][1]) for t in sorted(tables)}


@pytest.mark.sim(frozen=True, **RICH)
def test_shadow_writes_only_its_schema_and_compare_finds_only_intended_changes(
    flow_env: FlowEnv, schemas: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy, shadow = schemas
    legacy_tables = [name for name, spec in TABLES.items() if spec.legacy]
    _sql(f"CREATE DATABASE `{legacy}` DEFAULT CHARACTER SET utf8mb4")
    for table in legacy_tables:
        _create_legacy_table(legacy, get_table(table))
    _sql(
        f"INSERT INTO `{legacy}`.`cc_rate_limit_status` (timestamp, use_case, record_timing) VALUES (NOW(), 'x', 'pre')"
    )
    before = _checksums(legacy)
    started = _sql("SELECT NOW()")[0][0]
    time.sleep(1.05)  # the times below have whole seconds: nothing of the flows shares the legacy setup's second

    _sql(f"CREATE DATABASE `{shadow}` DEFAULT CHARACTER SET utf8mb4")  # the operator's migrate step
    monkeypatch.setenv("TARGET_SCHEMA", shadow)
    for name, parameters in RUNS:
        state = run_flow(build_flow(name).with_options(retries=0), **parameters)
        assert state.is_completed(), f"{name}: {state.message}"

    touched = _sql(
        "SELECT DISTINCT TABLE_SCHEMA FROM information_schema.TABLES WHERE (CREATE_TIME > %s OR UPDATE_TIME > %s) "
        "AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') "
        "AND TABLE_SCHEMA NOT LIKE 'bench%%' AND (TABLE_SCHEMA NOT LIKE 't\\_%%' OR TABLE_SCHEMA = %s)",
        [started, started, flow_env.database.name],
    )
    assert {r[0] for r in touched} == {shadow}  # not the legacy schema, not DB_NAME, not `market`
    assert _checksums(legacy) == before

    _sql(f"DELETE FROM `{legacy}`.`cc_rate_limit_status`")
    created = set(_checksums(shadow))
    filled = [t for t in legacy_tables if get_table(t).name in created]
    filled = [t for t in filled if _sql(f"SELECT 1 FROM `{shadow}`.`{get_table(t).name}` LIMIT 1")]
    assert len(filled) >= 20, filled
    for table in filled:
        assert _fill_legacy(legacy, shadow, table) > 0
    settings = load_settings(env_file=None).database
    reports = asyncio.run(compare_schemas(settings, legacy_schema=legacy, tables=filled))
    print(f"compare over {len(reports)} tables:")
    for report in reports:
        print(f"  {report.table}: {report.compared} keys, intended {dict(report.intended)}, unexpected "
              f"{dict(report.unexpected)} {report.error}")  # fmt: skip
    assert [r.table for r in reports if r.unexpected_total] == []
    intended = {rule.split(": ")[-1] for r in reports for rule in r.intended}
    assert {
        "duplicates collapsed",
        "zero value -> NULL",
        "boolean 0 -> true",
        "datetime text cast to BIGINT",
    } <= intended
    assert all(r.compared > 0 and r.legacy_rows >= r.shadow_rows for r in reports)

    ohlcv = get_table("market.cc_futures_ohlcv_1d")
    _sql(f"UPDATE `{shadow}`.`{ohlcv.name}` SET `close` = `close` * 2 ORDER BY `datetime` LIMIT 1")
    _sql(f"DELETE FROM `{shadow}`.`cc_assets` ORDER BY asset_id LIMIT 1")
    done = subprocess.run(
        [sys.executable, "-m", "ingestion_core.db.compare", "--legacy-schema", legacy,
         "--table", ohlcv.qualified_name, "--table", "market.cc_assets", "--table", "market.cc_exchanges_general"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    print(done.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "3 tables: " in done.stdout and " 2 unexpected" in done.stdout
    assert f'{ohlcv.qualified_name} unexpected: {{"key": ' in done.stdout and '"column": "close"' in done.stdout
    assert '"difference": "only in legacy"' in done.stdout

    tables = [ohlcv.qualified_name, "market.cc_assets", "market.cc_exchanges_general"]
    check = run_flow(validate_shadow, legacy_schema=legacy, tables=tables, days=30)
    assert check.is_failed() and (check.message or "").startswith("3 tables: ")
    rows = asyncio.run(artifact_rows("validate-shadow-report"))
    assert {str(r["table"]): int(str(r["unexpected_total"])) for r in rows} == {
        ohlcv.qualified_name: 1,
        "market.cc_assets": 1,
        "market.cc_exchanges_general": 0,
    }
