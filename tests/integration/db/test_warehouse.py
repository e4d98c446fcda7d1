"""The warehouse against real MariaDB (throw-away database per test) and SQLite, both upsert paths."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest

from ingestion_core.db import TABLES, UpsertResult, Warehouse, open_warehouse
from ingestion_core.db.coverage import coverage
from ingestion_core.db.tables import INGEST_QUARANTINE, INGEST_SCHEMA_VERSION, get_table, polars_schema
from ingestion_core.db.tables.assets import ASSETS
from ingestion_core.db.tables.futures import EXCHANGES_FUTURES_DETAILS, INSTRUMENTS_FUTURES
from ingestion_core.errors import ConfigurationError, DatabaseError
from ingestion_core.quarantine import QuarantineRecord
from ingestion_core.settings import DatabaseSettings

pytestmark = pytest.mark.integration

OHLCV = get_table("market.cc_futures_ohlcv_1h")
HOSTILE = [
    "x'); DROP TABLE t; --",
    "a\\b\\\\c\\N\\n \"q\" 's' `tick`",
    "tab\there\nnewline\r\ncrlf",
    "\\N",
    "ünïcødé ✓ 𝄞",
    "",
]
T0 = datetime(2024, 1, 1)


def ohlcv_frame(instruments: list[str], hours: range, price: float = 1.0, *, whole: bool = False) -> pl.DataFrame:
    """Rows of a few columns; ``whole`` adds the table's other columns as NULLs (a frame the direct load takes)."""
    frame = _some_columns(instruments, hours, price)
    if not whole:
        return frame
    missing = [pl.lit(None, t).alias(n) for n, t in polars_schema(OHLCV).items() if n not in frame.columns]
    return frame.with_columns(missing)


#: The upsert paths: batched, staged bulk, and bulk with every column (loaded straight into the table on MariaDB).
PATHS = pytest.mark.parametrize(
    "bulk,whole", [(False, False), (True, False), (True, True)], ids=["batched", "bulk", "bulk-whole"]
)


def _some_columns(instruments: list[str], hours: range, price: float) -> pl.DataFrame:
    rows = [
        {
            "datetime": T0 + timedelta(hours=h),
            "market": "binance",
            "instrument": inst,
            "mapped_instrument": inst,
            "open": price + h,
            "close": None,
            "total_trades": h,
        }
        for inst in instruments
        for h in hours
    ]
    return pl.DataFrame(rows, schema_overrides={"close": pl.Float64})


async def raw(wh: Warehouse, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    def work(cursor: Any) -> list[tuple[Any, ...]]:
        cursor.execute(sql, params or [])
        return [tuple(r) for r in cursor.fetchall()]

    return await wh._run(work)


async def test_ddl_for_every_table_applies(warehouse: Warehouse) -> None:
    for spec in TABLES.values():
        frame = await warehouse.select(spec)
        assert frame.columns == list(spec.column_names)
        assert frame.height == (1 if spec is INGEST_SCHEMA_VERSION else 0)


async def test_the_schema_version_keeps_when_it_was_first_applied(warehouse: Warehouse) -> None:
    table = INGEST_SCHEMA_VERSION
    await raw(warehouse, f"UPDATE {warehouse.renderer.table(table)} SET applied_at = '2020-01-02 03:04:05'")
    await warehouse.ensure_schema()  # every run ensures the schema: it must not move the first application's time
    stored = await warehouse.select(table, ["applied_at"])
    assert stored.get_column("applied_at").to_list() == [datetime(2020, 1, 2, 3, 4, 5)]


@PATHS
async def test_upsert_inserts_then_updates_with_counts(warehouse: Warehouse, bulk: bool, whole: bool) -> None:
    first = await warehouse.upsert(OHLCV, ohlcv_frame(["A", "B"], range(60), whole=whole), bulk=bulk)
    assert first == UpsertResult(inserted=120, updated=0)
    second = await warehouse.upsert(OHLCV, ohlcv_frame(["B", "C"], range(50, 70), 100.0, whole=whole), bulk=bulk)
    assert second == UpsertResult(inserted=30, updated=10)
    again = await warehouse.upsert(OHLCV, ohlcv_frame(["B", "C"], range(50, 70), 100.0, whole=whole), bulk=bulk)
    assert again == UpsertResult(inserted=0, updated=40)  # identical rows count as updated too
    stored = await warehouse.select(OHLCV, ["mapped_instrument", "datetime", "open", "close"])
    assert stored.height == 150
    b55 = stored.filter((pl.col("mapped_instrument") == "B") & (pl.col("datetime") == T0 + timedelta(hours=55)))
    assert b55["open"].to_list() == [155.0]
    assert stored["close"].null_count() == 150


@PATHS
async def test_hostile_strings_round_trip_byte_for_byte(warehouse: Warehouse, bulk: bool, whole: bool) -> None:
    frame = ohlcv_frame(HOSTILE, range(2), whole=whole).with_columns(pl.col("mapped_instrument").alias("type"))
    assert (await warehouse.upsert(OHLCV, frame, bulk=bulk)).inserted == 2 * len(HOSTILE)
    stored = await warehouse.select(OHLCV, ["mapped_instrument", "type"], where={"mapped_instrument": HOSTILE})
    assert sorted(stored["mapped_instrument"].to_list()) == sorted(HOSTILE * 2)
    assert (stored["mapped_instrument"] == stored["type"]).all()
    marks = await warehouse.watermarks(OHLCV, [("binance", h) for h in HOSTILE])
    assert marks == {("binance", h): T0 + timedelta(hours=1) for h in HOSTILE}
    for spec in TABLES.values():  # nothing was dropped
        await warehouse.select(spec, [spec.primary_key[0]])
    assert (await warehouse.select(OHLCV, ["market"], where={"market": "x'); DROP TABLE t; --"})).height == 0


@pytest.mark.parametrize("bulk", [False, True], ids=["batched", "bulk"])
async def test_nulls_are_sql_null_and_booleans_one_zero(warehouse: Warehouse, bulk: bool) -> None:
    frame = pl.DataFrame(
        {
            "exchange_internal_name": ["binance", "okx"],
            "mapped_instrument_symbol": ["BTC", "ETH"],
            "has_trades": [True, False],
            "has_funding_rate_updates": [None, True],
            "first_trade_datetime": [datetime(2020, 1, 1), None],
        }
    )
    await warehouse.upsert(INSTRUMENTS_FUTURES, frame, bulk=bulk)
    table = warehouse.renderer.table(INSTRUMENTS_FUTURES)
    rows = await raw(
        warehouse,
        f"SELECT has_trades, has_funding_rate_updates, first_trade_datetime FROM {table} ORDER BY 1 DESC",
    )
    assert [(r[0], r[1]) for r in rows] == [(1, None), (0, 1)]
    assert rows[1][2] is None
    selected = await warehouse.select(INSTRUMENTS_FUTURES, ["mapped_instrument_symbol"], where={"has_trades": True})
    assert selected["mapped_instrument_symbol"].to_list() == ["BTC"]


@pytest.mark.parametrize("bulk", [False, True], ids=["batched", "bulk"])
async def test_created_at_is_kept_and_updated_at_refreshed(backend_settings: DatabaseSettings, bulk: bool) -> None:
    now = [datetime(2025, 1, 1, 0, 0, 0)]
    async with open_warehouse(backend_settings, clock=lambda: now[0]) as wh:
        await wh.ensure_schema([EXCHANGES_FUTURES_DETAILS])
        table = EXCHANGES_FUTURES_DETAILS
        await wh.upsert(table, pl.DataFrame({"exchange_internal_name": ["x"], "exchange_status": ["a"]}), bulk=bulk)
        now[0] = datetime(2025, 6, 1, 12, 0, 0)
        result = await wh.upsert(
            table, pl.DataFrame({"exchange_internal_name": ["x"], "exchange_status": ["b"]}), bulk=bulk
        )
        assert result == UpsertResult(inserted=0, updated=1)
        row = (await wh.select(table, ["exchange_status", "created_at", "updated_at"])).row(0)
        assert row == ("b", datetime(2025, 1, 1), datetime(2025, 6, 1, 12))


@PATHS
async def test_crash_between_batches_leaves_a_key_time_prefix(warehouse: Warehouse, bulk: bool, whole: bool) -> None:
    frame = ohlcv_frame(["B", "A"], range(100), whole=whole).sample(fraction=1.0, shuffle=True, seed=7)
    committed: list[int] = []

    def crash_after_two(index: int, done: UpsertResult) -> None:
        committed.append(done.inserted)
        if index == 1:
            raise RuntimeError("writer killed")

    with pytest.raises(RuntimeError, match="writer killed"):
        await warehouse.upsert(OHLCV, frame, bulk=bulk, on_batch=crash_after_two)
    assert committed == [50, 50]
    stored = await warehouse.select(OHLCV, ["datetime", "market", "mapped_instrument"])
    expected = frame.sort("datetime", "market", "mapped_instrument").head(100)
    assert sorted(stored.rows()) == sorted(expected.select("datetime", "market", "mapped_instrument").rows())
    assert (await warehouse.upsert(OHLCV, frame, bulk=bulk)) == UpsertResult(inserted=100, updated=100)
    assert (await warehouse.select(OHLCV, ["datetime"])).height == 200


async def test_watermarks_and_range_stats_in_one_grouped_query(warehouse: Warehouse) -> None:
    await warehouse.upsert(OHLCV, ohlcv_frame(["A"], range(10)))
    await warehouse.upsert(OHLCV, ohlcv_frame(["B"], range(3, 5)))
    marks = await warehouse.watermarks(OHLCV, [("binance", "A"), ("binance", "B"), ("binance", "missing")])
    assert marks == {("binance", "A"): T0 + timedelta(hours=9), ("binance", "B"): T0 + timedelta(hours=4)}
    assert set(await warehouse.watermarks(OHLCV, None)) == {("binance", "A"), ("binance", "B")}
    stats = await warehouse.range_stats(
        OHLCV, [("binance", "A")], start=T0 + timedelta(hours=2), end=T0 + timedelta(hours=6)
    )
    got = stats[("binance", "A")]
    assert (got.first, got.last, got.rows) == (T0 + timedelta(hours=2), T0 + timedelta(hours=6), 5)
    epoch = int((T0 - datetime(1970, 1, 1)).total_seconds())
    assert (await warehouse.range_stats(OHLCV, None, start=epoch, end=epoch + 3 * 3600))[("binance", "A")].rows == 4


async def test_coverage_counts_gaps(warehouse: Warehouse) -> None:
    frame = ohlcv_frame(["A"], range(10)).filter(~pl.col("open").is_in([4.0, 5.0]))
    await warehouse.upsert(OHLCV, pl.concat([frame, ohlcv_frame(["B"], range(3))]))
    rows = await coverage(warehouse, OHLCV)
    assert [(r.series, r.rows, r.expected, r.gaps) for r in rows] == [
        (("binance", "A"), 8, 10, 2),
        (("binance", "B"), 3, 3, 0),
    ]
    assert [r.series for r in await coverage(warehouse, OHLCV, market="okx")] == []


async def test_quarantine_keeps_first_seen_and_refreshes_last_seen(backend_settings: DatabaseSettings) -> None:
    now = [datetime(2025, 1, 1)]
    async with open_warehouse(backend_settings, clock=lambda: now[0]) as wh:
        await wh.ensure_schema([])
        rec = QuarantineRecord.of("futures_ohlcv_1h", ("binance", "x'); --", 1), "high < low", {"HIGH": 1})
        assert await wh.quarantine([rec]) == 1
        now[0] = datetime(2025, 1, 2)
        assert await wh.quarantine([rec, QuarantineRecord("d", "k", "r", "{}")]) == 2
        stored = await wh.select(INGEST_QUARANTINE, where={"dataset": "futures_ohlcv_1h"})
        assert stored.select("record_key", "first_seen", "last_seen").rows() == [
            ("binance|x'); --|1", datetime(2025, 1, 1), datetime(2025, 1, 2))
        ]
        assert await wh.quarantine([]) == 0


async def test_select_validates_identifiers(warehouse: Warehouse) -> None:
    from ingestion_core.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        await warehouse.select(OHLCV, ["open; DROP TABLE x"])
    with pytest.raises(ConfigurationError):
        await warehouse.select(OHLCV, where={"nope": 1})
    assert (await warehouse.select(OHLCV, where={"market": []})).height == 0


async def test_unreachable_server_is_one_clear_error_naming_host_and_port() -> None:
    settings = DatabaseSettings(
        _env_file=None, host="127.0.0.1", port=1, password="hunter2secret", connect_timeout_seconds=2
    )
    with pytest.raises(DatabaseError, match=r"127\.0\.0\.1:1") as info:
        async with open_warehouse(settings):
            pass
    assert "hunter2secret" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


async def test_warehouse_used_outside_its_context_says_so(sqlite_settings: DatabaseSettings) -> None:
    wh = open_warehouse(sqlite_settings)
    with pytest.raises(DatabaseError, match="not open"):
        await wh.watermarks(OHLCV)


@pytest.mark.parametrize("bulk", [False, True], ids=["batched", "bulk"])
async def test_statement_error_is_a_database_error_and_the_warehouse_recovers(warehouse: Warehouse, bulk: bool) -> None:
    # cc_assets.symbol is NOT NULL without a default: the server refuses the row.
    with pytest.raises(DatabaseError, match="symbol"):
        await warehouse.upsert(ASSETS, pl.DataFrame({"asset_id": [1]}), bulk=bulk)
    assert (await warehouse.select(ASSETS)).height == 0
    assert (await warehouse.upsert(OHLCV, ohlcv_frame(["A"], range(3)), bulk=bulk)).inserted == 3


async def _statements(wh: Warehouse) -> dict[str, int]:
    """This session's count of LOAD DATA and INSERT ... SELECT statements (the warehouse has one connection)."""
    rows = await raw(wh, "SHOW SESSION STATUS WHERE Variable_name IN ('Com_load', 'Com_insert_select')")
    return {str(name): int(value) for name, value in rows}


async def test_whole_gap_free_frames_load_straight_into_the_table_with_exact_counts(
    mariadb_settings: DatabaseSettings,
) -> None:
    async with open_warehouse(mariadb_settings.model_copy(update={"pool_size": 1})) as wh:
        await wh.ensure_schema([OHLCV])
        table = wh.renderer.table(OHLCV)
        # A stored row off the hourly grid inside the frame's range: not one of its keys, so not counted as updated.
        off_grid = "('2024-01-01 02:30:00', 'binance', 'A', 'A')"
        await raw(wh, f"INSERT INTO {table} (datetime, market, instrument, mapped_instrument) VALUES {off_grid}")
        await wh.upsert(OHLCV, ohlcv_frame(["A"], range(3, 5), whole=True), bulk=True)  # 03:00, 04:00 stored
        before = await _statements(wh)
        result = await wh.upsert(OHLCV, ohlcv_frame(["A", "B"], range(120), 7.0, whole=True), bulk=True)
        after = await _statements(wh)
        assert result == UpsertResult(inserted=238, updated=2)
        assert after["Com_insert_select"] == before["Com_insert_select"]  # no staged merge
        assert after["Com_load"] - before["Com_load"] == 5  # 240 rows in batches of 50, each loaded once
        stored = await wh.select(OHLCV, ["mapped_instrument", "open"], where={"mapped_instrument": ["A", "B"]})
        assert stored.height == 241 and stored["open"].null_count() == 1  # every frame row written, 02:30 kept

        gap = ohlcv_frame(["A"], range(200, 210), whole=True).filter(pl.col("datetime") != T0 + timedelta(hours=205))
        before = await _statements(wh)
        assert await wh.upsert(OHLCV, gap, bulk=True) == UpsertResult(inserted=9, updated=0)
        after = await _statements(wh)
        assert after["Com_insert_select"] - before["Com_insert_select"] == 1  # a gap: the staged merge

        some = ohlcv_frame(["A"], range(300, 310))  # not every column: the staged merge keeps the others
        before = await _statements(wh)
        assert await wh.upsert(OHLCV, some, bulk=True) == UpsertResult(inserted=10, updated=0)
        assert (await _statements(wh))["Com_insert_select"] - before["Com_insert_select"] == 1


async def test_upsert_series_commits_several_series_at_once_with_counts_and_refusals_per_part(
    warehouse: Warehouse,
) -> None:
    await warehouse.upsert(OHLCV, ohlcv_frame(["B"], range(2)))
    too_long = ohlcv_frame(["C"], range(2)).with_columns(
        pl.when(pl.col("datetime") == T0).then(pl.lit("x" * 300)).otherwise(pl.lit("ok")).alias("type")
    )
    parts = [ohlcv_frame(["A"], range(3)), ohlcv_frame(["B"], range(1, 4)), too_long, ohlcv_frame(["D"], range(0))]
    results = await warehouse.upsert_series(OHLCV, parts)
    assert [(r.inserted, r.updated, len(r.rejected)) for r in results] == [(3, 0, 0), (2, 1, 0), (1, 0, 1), (0, 0, 0)]
    assert "300 characters" in results[2].rejected[0].reason
    stored = await warehouse.select(OHLCV, ["mapped_instrument"])
    assert sorted(stored["mapped_instrument"].to_list()) == ["A"] * 3 + ["B"] * 4 + ["C"]


async def test_upsert_series_refuses_parts_that_are_not_one_series_each(warehouse: Warehouse) -> None:
    with pytest.raises(ConfigurationError, match="one series"):
        await warehouse.upsert_series(OHLCV, [ohlcv_frame(["A", "B"], range(1))])
    with pytest.raises(ConfigurationError, match="one series"):
        await warehouse.upsert_series(OHLCV, [ohlcv_frame(["A"], range(1)), ohlcv_frame(["A"], range(1, 2))])
    with pytest.raises(ConfigurationError, match="not a time series"):
        await warehouse.upsert_series(ASSETS, [pl.DataFrame({"asset_id": [1]})])
    assert (await warehouse.select(OHLCV, ["datetime"])).height == 0
