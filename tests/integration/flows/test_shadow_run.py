"""Shadow mode and the comparison, on MariaDB with legacy-shaped tables and the flows on a real Prefect server.

1. Legacy-shaped tables exist in their own schema (no keys, as the legacy DDL and de-duplication left them).
2. Every flow runs with ``TARGET_SCHEMA`` set to a shadow schema: nothing outside the shadow schema is created or
   written (checked through ``information_schema`` and table checksums).
3. The legacy tables are then filled the way the legacy scripts stored the facts of the same flows run 7 minutes
   earlier (zero values and zero dates for absent ones, 0 for the spot and exchange booleans, a year in the index
   message timestamps, older duplicate copies in the unkeyed tables, other wall clocks, ACTIVE instruments only),
   and ``compare`` must find intended differences and drift (the live counters moved in 7 minutes), nothing
   unexpected; ``validate_shadow`` is green.
4. Each defect a shadow run could have (a missing row, an extra row, a changed price, a shifted timestamp, a NULL
   where legacy has a value, a key stored twice) is planted alone into a copy of a shadow table and must be caught.
5. A corrupted shadow value and a missing shadow row are reported as unexpected, the command exits 1 and
   ``validate_shadow`` is red.
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
from ingestion_core.settings import DatabaseSettings, load_settings
from ingestion_core.sim import ManualClock
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
def schemas() -> Iterator[tuple[str, str, str]]:
    """A legacy schema, the schema the legacy side's facts come from (an earlier run), and a shadow schema."""
    tag = uuid.uuid4().hex[:8]
    names = f"legacy_{tag}", f"earlier_{tag}", f"shadow_{tag}"
    yield names
    for name in names:
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


def _fill_legacy(legacy: str, source: str, table: str) -> int:
    """Copy the source's rows into the legacy table the legacy way; returns the rows written.

    The legacy discoveries stored only ACTIVE instruments (F-5, S-1): the others are left out.
    """
    spec = get_table(table)
    names = list(spec.column_names)
    where = ""
    if spec.shadow.extra_rows is not None:
        where = f" WHERE `{spec.shadow.extra_rows[0]}` = 'ACTIVE'"
    rows = _sql(f"SELECT {', '.join(quote(n, 'mysql') for n in names)} FROM `{source}`.`{spec.name}`{where}")
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
def test_shadow_writes_only_its_schema_and_compare_finds_only_intended_changes_and_drift(
    flow_env: FlowEnv, schemas: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy, earlier, shadow = schemas
    legacy_tables = [name for name, spec in TABLES.items() if spec.legacy]
    _sql(f"CREATE DATABASE `{legacy}` DEFAULT CHARACTER SET utf8mb4")
    for table in legacy_tables:
        _create_legacy_table(legacy, get_table(table))
    _sql(
        f"INSERT INTO `{legacy}`.`cc_rate_limit_status` (timestamp, use_case, record_timing) VALUES (NOW(), 'x', 'pre')"
    )
    before = _checksums(legacy)
    clock = flow_env.sim.simulator.config.clock
    assert isinstance(clock, ManualClock)

    # The legacy side's facts: the same flows a few minutes earlier (the legacy cron and the shadow deployments run
    # minutes apart), into a schema of their own; then the shadow run itself.
    for schema in (earlier, shadow):
        _sql(f"CREATE DATABASE `{schema}` DEFAULT CHARACTER SET utf8mb4")  # the operator's migrate step
    monkeypatch.setenv("TARGET_SCHEMA", earlier)
    for name, parameters in RUNS:
        assert run_flow(build_flow(name).with_options(retries=0), **parameters).is_completed(), name
    legacy_clock = int(clock())
    clock.advance(7 * 60)
    started = _sql("SELECT NOW()")[0][0]
    time.sleep(1.05)  # the times below have whole seconds: nothing of the shadow run shares the setup's second
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
        assert _fill_legacy(legacy, earlier, table) > 0
    settings = load_settings(env_file=None).database
    # The time series up to the legacy run's last closed hour: the shadow ran later and may hold one more.
    window = (datetime(2000, 1, 1), datetime.fromtimestamp(legacy_clock - legacy_clock % 3600 - 3600, UTC).replace(
        tzinfo=None))  # fmt: skip
    specs = [get_table(t) for t in filled]
    reports = asyncio.run(compare_schemas(settings, legacy_schema=legacy, tables=specs, time_range=window))
    print(f"compare over {len(reports)} tables:")
    for report in reports:
        print(f"  {report.table}: {report.compared} keys, intended {dict(report.intended)}, drift "
              f"{dict(report.drift)}, unexpected {dict(report.unexpected)} {report.error}")  # fmt: skip
    totals = [sum(getattr(r, f"{k}_total") for r in reports) for k in ("intended", "drift", "unexpected")]
    print(f"  totals: intended {totals[0]}, drift {totals[1]}, unexpected {totals[2]}")
    assert [r.table for r in reports if r.unexpected_total] == []
    intended = {rule.split(": ")[-1] for r in reports for rule in r.intended}
    assert {
        "duplicates collapsed",
        "zero value -> NULL",
        "zero date -> NULL",  # seen now that DATETIME columns are read as text
        "boolean 0 -> true",
        "datetime text cast to BIGINT",
        "F-5 instruments of every status discovered",
        "S-1 pairs of every status discovered",
    } <= intended
    drift = {r.table for r in reports if r.drift_total}
    assert {"market.cc_instruments_futures", "market.cc_instruments_spot"} <= drift  # the clock moved 7 minutes
    assert all(r.compared > 0 for r in reports)
    assert run_flow(validate_shadow, legacy_schema=legacy, tables=filled, days=30).is_completed()  # green

    _planted_defects_are_each_caught(settings, legacy, shadow)

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


#: Each defect a shadow run could have, planted alone into a copy of one shadow table: (what, table, statements
#: over `{t}` the copy, the unexpected class it must show up under).
DEFECTS: list[tuple[str, str, list[str], str]] = [
    ("a missing row", "cc_futures_ohlcv_1d", ["DELETE FROM {t} ORDER BY `datetime` LIMIT 1"], "only in legacy"),
    ("an extra row", "cc_futures_ohlcv_1d",
     ["ALTER TABLE {t} DROP PRIMARY KEY",
      "INSERT INTO {t} SELECT * FROM {t} ORDER BY `datetime`, `market`, `mapped_instrument` LIMIT 1",
      "UPDATE {t} SET `datetime` = '2001-01-01' ORDER BY `datetime`, `market`, `mapped_instrument` LIMIT 1"],
     "only in shadow"),
    ("a changed price", "cc_futures_ohlcv_1d", ["UPDATE {t} SET `high` = `high` * 1.01 LIMIT 1"], "high"),
    ("a shifted timestamp", "cc_futures_ohlcv_1d",
     ["UPDATE {t} SET `datetime` = `datetime` + INTERVAL 1 HOUR ORDER BY `datetime` DESC LIMIT 1"], "only in legacy"),
    ("a NULL where legacy has a value", "cc_futures_ohlcv_1d",
     ["UPDATE {t} SET `volume` = NULL WHERE `volume` > 0 LIMIT 1"], "volume"),
    ("a key stored twice", "cc_assets",
     ["ALTER TABLE {t} DROP PRIMARY KEY", "INSERT INTO {t} SELECT * FROM {t} LIMIT 1"],
     "key stored twice in the shadow"),
]  # fmt: skip


def _planted_defects_are_each_caught(settings: DatabaseSettings, legacy: str, shadow: str) -> None:
    caught: list[str] = []
    for what, name, statements, where in DEFECTS:
        scratch = f"{shadow}_defect"
        _sql(f"CREATE DATABASE `{scratch}` DEFAULT CHARACTER SET utf8mb4")
        try:
            copy = f"`{scratch}`.`{name}`"
            _sql(f"CREATE TABLE {copy} LIKE `{shadow}`.`{name}`")
            _sql(f"INSERT INTO {copy} SELECT * FROM `{shadow}`.`{name}`")
            for statement in statements:
                _sql(statement.format(t=copy))
            target = settings.model_copy(update={"target_schema": scratch})
            (report,) = asyncio.run(compare_schemas(target, legacy_schema=legacy, tables=[get_table(f"market.{name}")]))
            print(f"  planted {what} in {name}: unexpected {dict(report.unexpected)}")
            assert report.unexpected[where] >= 1, (what, report.unexpected)
            caught.append(what)
        finally:
            _sql(f"DROP DATABASE IF EXISTS `{scratch}`")
    assert caught == [d[0] for d in DEFECTS]
