"""Migration on a legacy-shaped table holding duplicates: dry-run reports, --apply-keys collapses, newest wins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import pytest

from ingestion_core.db import Warehouse, get_table, migrate, open_warehouse
from ingestion_core.db.schema_sql import column_definition, quote, series_index_name, table_ddl
from ingestion_core.errors import ConfigurationError
from ingestion_core.settings import DatabaseSettings

pytestmark = pytest.mark.integration

ASSETS = get_table("market.cc_assets")


async def _legacy_assets(wh: Warehouse) -> None:
    """cc_assets as the old scripts left it: no primary key, duplicates from REPLACE-as-insert."""
    r = wh.renderer
    cols = ", ".join(column_definition(c, ASSETS, wh.dialect, keys=False, exact_keys=False) for c in ASSETS.columns)
    names = ["asset_id", "symbol", "name", "uri", "asset_type", "cc_internal_type", "id_legacy"]
    names += ["cc_created_on", "cc_updated_on", "created_at", "updated_at"]
    marks = ", ".join([r.ph] * len(names))
    insert = f"INSERT INTO {r.table(ASSETS)} ({', '.join(names)}) VALUES ({marks})"

    def row(asset_id: int, symbol: str, day: int) -> list[Any]:
        ts = datetime(2025, 1, day).strftime("%Y-%m-%d %H:%M:%S")
        return [asset_id, symbol, symbol, symbol, "BLOCKCHAIN", "STANDALONE", asset_id, ts, ts, ts, ts]

    def work(cursor: Any) -> None:
        wh._create_databases(cursor)
        cursor.execute(f"CREATE TABLE {r.table(ASSETS)} ({cols})")
        for values in (row(1, "BTC-old", 1), row(1, "BTC", 3), row(1, "BTC-mid", 2), row(2, "ETH", 1), row(3, "X", 1)):
            cursor.execute(insert, values)
        cursor.execute(insert, row(2, "ETH-new", 5))

    await wh._run(work)


async def test_dry_run_reports_then_apply_keys_collapses_to_the_newest(backend_settings: DatabaseSettings) -> None:
    async with open_warehouse(backend_settings) as wh:
        await _legacy_assets(wh)
        (state,) = await migrate.inspect(wh, [ASSETS])
        assert state.exists and not state.keyed
        assert (state.duplicate_keys, state.surplus_rows) == (2, 3)
        assert "2 duplicate keys, 3 rows to collapse" in migrate.describe([state])[0]
        # ensure_schema never touches an existing table: it is still unkeyed afterwards.
        await wh.ensure_schema([ASSETS])
        assert (await migrate.inspect(wh, [ASSETS]))[0].surplus_rows == 3

        before, after = await migrate.apply_keys(wh, ASSETS, chunk_rows=2)
        assert (before, after) == (6, 3)
        (state,) = await migrate.inspect(wh, [ASSETS])
        assert state.keyed
        stored = await wh.select(ASSETS, ["asset_id", "symbol"])
        assert sorted(stored.rows()) == [(1, "BTC"), (2, "ETH-new"), (3, "X")]
        legacy = get_table("market.cc_assets")
        assert await migrate.stored_primary_key(wh, _renamed(legacy, "cc_assets__legacy")) == ()
        with pytest.raises(ConfigurationError, match="already has its key"):
            await migrate.apply_keys(wh, ASSETS)


def _renamed(spec: Any, name: str) -> Any:
    import dataclasses

    return dataclasses.replace(spec, name=name)


async def test_inspect_reports_missing_tables(backend_settings: DatabaseSettings) -> None:
    async with open_warehouse(backend_settings) as wh:
        states = await migrate.inspect(wh, [ASSETS])
        assert migrate.describe(states) == ["missing  market.cc_assets"]


async def test_a_table_without_its_series_index_plans_the_same_and_apply_index_adds_it(
    backend_settings: DatabaseSettings,
) -> None:
    spec = get_table("market.cc_futures_ohlcv_1m")
    async with open_warehouse(backend_settings) as wh:
        r = wh.renderer
        index = quote(series_index_name(spec, wh.dialect), wh.dialect)
        drop = f"DROP INDEX {index}" if wh.dialect == "sqlite" else f"ALTER TABLE {r.table(spec)} DROP INDEX {index}"

        def legacy_shaped(cursor: Any) -> None:  # the legacy DDL: the key, no series index
            wh._create_databases(cursor)
            for statement in [*table_ddl(spec, wh.dialect, r.database), drop]:
                cursor.execute(statement)

        await wh._run(legacy_shaped)
        rows = [(m, f"I{i}", datetime(2026, 1, 1, 0, m)) for m in range(5) for i in range(3) if (i, m) != (2, 4)]
        frame = pl.DataFrame(rows, schema=["minute", "mapped_instrument", "datetime"], orient="row")
        frame = frame.drop("minute").with_columns(market=pl.lit("binance"), instrument=pl.lit("x"))
        await wh.upsert(spec, frame)
        series = [("binance", "I0"), ("binance", "I2"), ("binance", "absent")]
        expected = {("binance", "I0"): datetime(2026, 1, 1, 0, 4), ("binance", "I2"): datetime(2026, 1, 1, 0, 3)}

        (state,) = await migrate.inspect(wh, [spec])
        assert state.missing_index == ("market", "mapped_instrument", "datetime")
        assert f"run --apply-index {spec.qualified_name}" in migrate.describe([state])[0]
        assert not await wh.series_indexed(spec)
        assert await wh.watermarks(spec, series) == expected

    async with open_warehouse(backend_settings) as wh:  # a fresh warehouse reads the stored indexes again
        await migrate.apply_index(wh, spec)
        assert await wh.series_indexed(spec)
        assert await wh.watermarks(spec, series) == expected
        assert (await migrate.inspect(wh, [spec]))[0].missing_index == ()
        with pytest.raises(ConfigurationError, match="already has its series index"):
            await migrate.apply_index(wh, spec)


async def test_newest_per_series_answers_more_series_than_one_statement_holds(
    backend_settings: DatabaseSettings,
) -> None:
    spec = get_table("market.cc_futures_ohlcv_1m")
    names = [f"I{i:03d}" for i in range(450)]  # three statements of at most 200 series
    frame = pl.DataFrame(
        {
            "datetime": [datetime(2026, 1, 1, i // 60, i % 60) for i in range(len(names))],
            "market": ["binance"] * len(names),
            "mapped_instrument": names,
            "instrument": names,
        }
    )
    async with open_warehouse(backend_settings) as wh:
        await wh.ensure_schema([spec])
        await wh.upsert(spec, frame)
        assert await wh.series_indexed(spec)
        marks = await wh.watermarks(spec, [("binance", n) for n in [*names, "none"]])
    assert marks == {("binance", n): t for n, t in zip(names, frame["datetime"].to_list(), strict=True)}
