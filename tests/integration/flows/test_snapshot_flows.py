"""The snapshot flows end to end on a real Prefect server, the simulator over a socket and MariaDB.

For every snapshot dataset of the registry: a first run fills every table, calls = the pages or markets needed, a
second run changes nothing but the wall-clock columns. Then the rules: a disappearing item keeps its row and is
reported (marked where the table has a status), one failing market or bad record spares the rest and fails the run
by name, an unkeyed target table is refused with the migration named, a moving ranking still gives every asset once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from prefect import Flow

from flows._registry import build_flow
from ingestion_core.db import open_warehouse
from ingestion_core.db.schema_sql import column_definition
from ingestion_core.db.tables import get_table
from ingestion_core.db.tables.columns import WALL_CLOCK_NAMES
from ingestion_core.errors import DatabaseError, RunFailed
from ingestion_core.snapshots import SNAPSHOTS
from ingestion_core.snapshots.outcome import SnapshotOutcome
from tests.integration.flows.conftest import FlowEnv, artifact_rows, events, run_flow

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def flow_of(name: str) -> Flow[..., Any]:
    flow: Flow[..., Any] = build_flow(name).with_options(retries=0)
    return flow


def expected_rows(env: FlowEnv) -> dict[str, int]:
    """Rows per table the simulator's universe gives (what a first run must store)."""
    u = env.sim.universe
    every_exchange = set(u.spot_markets) | set(u.futures_markets)
    listed = u.assets
    return {
        "market.cc_exchanges_futures_details": len(u.futures_markets),
        "market.cc_instruments_futures": len(u.futures),
        "market.cc_exchange_spot_details": len(u.spot_markets),
        "market.cc_instruments_spot": len(u.spot),
        "market.cc_exchanges_general": len(every_exchange),
        "market.cc_assets": len(listed),
        "market.cc_asset_alternative_ids": len(listed),
        "market.cc_asset_industries_map": len(listed),
        "market.cc_asset_consensus_mechanisms_map": len(listed),
        "market.cc_asset_consensus_algorithm_types_map": len(listed),
        "market.cc_asset_hashing_algorithm_types_map": len(listed),
        "market.cc_asset_previous_symbols_map": sum(1 for rank in range(len(listed)) if rank % 4 == 0),
        "market.cc_asset_market_data": len(listed),
        "market.cc_rate_limit_status": 1,
    }


def calls_needed(env: FlowEnv, name: str) -> int:
    """The minimum calls: one per catalogue, one per top-list page (100 per page), one usage read."""
    if name == "asset_metadata":
        return -(-len(env.sim.universe.assets) // 100)
    return 1


def stored(env: FlowEnv, table: str) -> pl.DataFrame:
    keys = list(get_table(table).primary_key)
    return env.table(table, keys).drop([c for c in WALL_CLOCK_NAMES if c in get_table(table).column_names])


# Frozen: live fields (an ACTIVE instrument's LAST_* time, trade counters, prices) move with "now" in the real API
# and in the simulator; with the simulator's clock stopped, a re-run must change nothing but the run's clock.
@pytest.mark.sim(frozen=True)
@pytest.mark.parametrize("name", sorted(SNAPSHOTS))
def test_first_run_fills_every_table_and_a_rerun_changes_only_the_clock(flow_env: FlowEnv, name: str) -> None:
    spec = SNAPSHOTS[name]
    flow_env.sim.reset_stats()
    state = run_flow(flow_of(name))
    assert state.is_completed(), state.message
    outcome = state.result()
    assert isinstance(outcome, SnapshotOutcome)
    want = expected_rows(flow_env)
    # The pre and post API-usage records; without them, one check that the API answers (the pre record is one).
    usage = 2 if spec.use_case else len(spec.apis)
    assert outcome.calls == calls_needed(flow_env, name)
    assert flow_env.sim.stats()["total_calls"] == calls_needed(flow_env, name) + usage
    for table in spec.tables:
        rows = stored(flow_env, table.qualified_name)
        if table.qualified_name == "market.cc_rate_limit_status" and spec.use_case:
            continue
        assert rows.height == want[table.qualified_name], table.qualified_name
        assert outcome.table(table.qualified_name).inserted == rows.height
    first = {t.qualified_name: stored(flow_env, t.qualified_name) for t in spec.tables}

    again = run_flow(flow_of(name))
    assert again.is_completed(), again.message
    second = again.result()
    for table in spec.tables:
        if table.qualified_name == "market.cc_rate_limit_status":
            continue  # a usage log: every run adds its own rows
        done = second.table(table.qualified_name)
        assert (done.inserted, done.changed) == (0, 0), table.qualified_name
        assert done.appeared == () and done.disappeared == ()
        assert stored(flow_env, table.qualified_name).equals(first[table.qualified_name]), table.qualified_name


def test_every_ingestion_run_records_pre_and_post_usage(flow_env: FlowEnv) -> None:
    assert run_flow(flow_of("spot_instruments")).is_completed()
    log = flow_env.table("market.cc_rate_limit_status", ["timestamp", "record_timing"])
    assert sorted(log.select("use_case", "record_timing").rows()) == [
        ("ingest_spot_exchange_instrument_data", "post"),
        ("ingest_spot_exchange_instrument_data", "pre"),
    ]
    assert log.get_column("api_key_used_second").null_count() == 0


def test_a_pair_that_stopped_trading_is_refreshed_and_a_vanished_one_is_marked(flow_env: FlowEnv) -> None:
    assert run_flow(flow_of("spot_instruments")).is_completed()
    table = "market.cc_instruments_spot"
    rows = flow_env.table(table, ["exchange_internal_name", "mapped_instrument_symbol"])
    retired = {(s.market, s.mapped_instrument) for s in flow_env.sim.universe.spot if s.end_ts is not None}
    statuses = {(m, i): st for m, i, st in rows.select([*rows.columns[:2], "instrument_status_on_exchange"]).rows()}
    assert retired and all(statuses[key] == "RETIRED" for key in retired)  # S-1: not ACTIVE forever
    ghost = rows.head(1).with_columns(pl.lit("GHOST-USD").alias("mapped_instrument_symbol"))

    async def add_ghost() -> None:
        async with open_warehouse(flow_env.database) as wh:
            await wh.upsert(get_table(table), ghost)

    asyncio.run(add_ghost())
    since = datetime.now(UTC)
    state = run_flow(flow_of("spot_instruments"))
    assert state.is_completed(), state.message
    outcome = state.result().table(table)
    ghost_key = f"{ghost['exchange_internal_name'][0]}/GHOST-USD"
    assert outcome.disappeared == (ghost_key,) and outcome.marked == 1
    (removed,) = asyncio.run(events("ccdata.spot_instruments.removed", since, "ccdata.dataset.spot_instruments"))
    assert removed == {"table": table, "count": 1, "items": [ghost_key]}
    kept = flow_env.table(table, ["mapped_instrument_symbol"]).filter(pl.col("mapped_instrument_symbol") == "GHOST-USD")
    assert kept["instrument_status_on_exchange"].to_list() == ["NOT_LISTED"]
    rerun = run_flow(flow_of("spot_instruments")).result().table(table)
    assert rerun.disappeared == ()  # reported once, not every run


def test_a_failing_market_spares_the_others_and_fails_the_run_by_name(flow_env: FlowEnv) -> None:
    markets = list(flow_env.sim.universe.spot_markets)
    state = run_flow(flow_of("spot_instruments"), markets=[*markets, "nosuchmarket"])
    assert state.is_failed()
    assert "market nosuchmarket: HTTP 404" in (state.message or "")
    error = state.result(raise_on_failure=False)
    assert isinstance(error, RunFailed) and not error.retriable
    stored_markets = set(
        flow_env.table("market.cc_instruments_spot", ["exchange_internal_name"])["exchange_internal_name"]
    )
    assert stored_markets == set(markets)


@pytest.mark.sim(faults={"metadata_faults": {"long_symbol": "binance", "surrogate": "bybit"}})
def test_records_that_cannot_be_stored_are_quarantined_and_the_rest_load(flow_env: FlowEnv) -> None:
    state = run_flow(flow_of("futures_instruments"))
    assert state.is_failed()
    message = state.message or ""
    assert "mapped_instrument_symbol: 323 characters, the column holds 255" in message
    assert "quarantined bybit|BAD\\ud800-USDT-VANILLA-PERPETUAL: instrument symbol is not usable text" in message
    stored_rows = flow_env.table(
        "market.cc_instruments_futures", ["exchange_internal_name", "mapped_instrument_symbol"]
    )
    assert stored_rows.height == len(flow_env.sim.universe.futures)  # every good instrument, both markets
    quarantine = flow_env.table("market.ingest_quarantine", ["dataset", "record_key"])
    reasons = " | ".join(quarantine["reason"].to_list())
    assert "instrument symbol is not usable text" in reasons and "323 characters" in reasons


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        ("surrogate", "bybit|BAD\\ud800-USDT-VANILLA-PERPETUAL"),
        ("invalid_utf8", "bybit|BAD\\udcff\\udcfe-USDT-VANILLA-PERPETUAL"),
    ],
)
def test_one_unusable_instrument_name_is_quarantined_and_fails_the_run_by_name(
    flow_env: FlowEnv, fault: str, key: str
) -> None:
    # A lone surrogate (a JSON escape) or raw bytes that are not UTF-8 in one listed name: that entry alone is kept
    # out, and the run ends Failed naming it, as it does for a row the table refuses.
    flow_env.sim.set_faults(metadata_faults={fault: "bybit"})
    state = run_flow(flow_of("futures_instruments"))
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, RunFailed) and not error.retriable
    assert f"quarantined {key}: instrument symbol is not usable text" in (state.message or "")
    stored = flow_env.table("market.cc_instruments_futures", ["exchange_internal_name", "mapped_instrument_symbol"])
    assert stored.height == len(flow_env.sim.universe.futures)  # every good instrument of both markets
    quarantine = flow_env.table("market.ingest_quarantine", ["dataset", "record_key"])
    assert quarantine["record_key"].to_list() == [key]


@pytest.mark.sim(faults={"rank_drift": 1}, assets=25)
def test_a_moving_ranking_still_gives_every_asset_once(flow_env: FlowEnv) -> None:
    state = run_flow(flow_of("asset_metadata"), page_size=10)
    assert state.is_completed(), state.message
    outcome = state.result()
    assert outcome.notes["passes"] == 2 and outcome.notes["distinct"] == outcome.notes["total_assets"] == 25
    assets = flow_env.table("market.cc_assets", ["asset_id"])
    assert assets.height == 25 and assets["asset_id"].is_unique().all()


@pytest.mark.sim(faults={"metadata_faults": {"null_name": "ETH"}})
def test_an_asset_missing_a_not_null_field_is_refused_by_name(flow_env: FlowEnv) -> None:
    state = run_flow(flow_of("asset_metadata"))
    assert state.is_failed()
    assert "market.cc_assets 2: name: missing, and the column is NOT NULL" in (state.message or "")
    assert flow_env.table("market.cc_assets", ["asset_id"]).height == len(flow_env.sim.universe.assets) - 1
    assert flow_env.table("market.cc_asset_market_data", ["asset_id"]).height == len(flow_env.sim.universe.assets)


def test_an_unkeyed_target_table_is_refused_before_any_write(flow_env: FlowEnv) -> None:
    spec = get_table("market.cc_exchange_spot_details")

    async def legacy_table() -> None:
        async with open_warehouse(flow_env.database) as wh:
            cols = ", ".join(column_definition(c, spec, wh.dialect, keys=False, exact_keys=False) for c in spec.columns)

            def work(cursor: Any) -> None:
                wh._create_databases(cursor)
                cursor.execute(f"CREATE TABLE {wh.renderer.table(spec)} ({cols})")

            await wh._run(work)

    asyncio.run(legacy_table())
    flow_env.sim.reset_stats()
    state = run_flow(flow_of("spot_instruments"))
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, DatabaseError) and not error.retriable
    assert str(error) == (
        "market.cc_exchange_spot_details has no primary key, not (exchange_internal_name): an upsert would append "
        "duplicates; run python -m ingestion_core.db.migrate --apply-keys market.cc_exchange_spot_details"
    )
    assert flow_env.sim.stats()["total_calls"] == 2  # the usage records only: no catalogue call, nothing written
    assert flow_env.table("market.cc_instruments_spot", ["exchange_internal_name"]).height == 0


def test_the_artifact_lists_tables_and_changes(flow_env: FlowEnv) -> None:
    assert run_flow(flow_of("exchanges_general")).is_completed()
    rows = asyncio.run(artifact_rows("exchanges-general-summary"))
    assert rows[0]["what"] == "market.cc_exchanges_general"
    assert int(str(rows[0]["inserted"])) == len(
        set(flow_env.sim.universe.spot_markets) | set(flow_env.sim.universe.futures_markets)
    )
