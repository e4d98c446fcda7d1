"""The futures flows end to end on a real Prefect server, the simulator over a socket and MariaDB.

Each test runs instrument discovery first (the time-series flows read their instruments from its table), then a
time-series flow, and checks the warehouse and the simulator's request counters.
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from prefect import Flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterType,
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
    TaskRunFilterName,
)
from prefect.client.schemas.objects import State

from flows.futures_funding_rate import futures_funding_rate
from flows.futures_instruments import futures_instruments
from flows.futures_ohlcv import futures_ohlcv
from flows.futures_open_interest import futures_open_interest
from ingestion_core.db import open_warehouse
from ingestion_core.db.coverage import coverage, record_gaps
from ingestion_core.db.tables import get_table
from ingestion_core.db.tables.futures import INSTRUMENTS_FUTURES
from ingestion_core.errors import RunFailed
from ingestion_core.pipeline.summary import RunSummary
from ingestion_core.sim.universe import FuturesInstrument
from tests.integration.flows.conftest import FlowEnv, artifact_rows, artifact_text, events, run_flow

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HOUR = 3600
OHLCV_1H = "market.cc_futures_ohlcv_1h"
USAGE = "market.cc_rate_limit_status"
KEY = ["market", "mapped_instrument", "datetime"]

discover = futures_instruments.with_options(retries=0)
ohlcv = futures_ohlcv.with_options(retries=0)


def _naive(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def _active(env: FlowEnv) -> list[FuturesInstrument]:
    universe = env.sim.universe
    return [i for i in universe.futures if i.status(universe.now) == "ACTIVE"]


def _expected_hours(item: FuturesInstrument, now: int) -> list[datetime]:
    """Every closed 1h bucket from the instrument's first trade to its last data (the open bucket excluded)."""
    first = item.first_trade // HOUR * HOUR
    end = min(item.data_end(now), now // HOUR * HOUR - HOUR)
    return [_naive(ts) for ts in range(first, end // HOUR * HOUR + 1, HOUR)]


def _corruption_period(now: int) -> int:
    """A period of corrupt hours (the simulator's ``corrupt_every``) that spares the newest closed hour and the next.

    A corrupt newest bucket is no hole (nothing is stored above it) and, alone in an incremental run's window, fails
    its series: both by design, and not what the hole tests look at. With a fixed period of 7, one hour in seven
    made them fail (first seen at 00:0x UTC: 23:00 was corrupt). The next hour is spared too, for a test that
    straddles an hour boundary.
    """
    newest = now // HOUR - 1
    return next(p for p in (7, 5, 11, 13) if newest % p and (newest + 1) % p)


def _discover(env: FlowEnv) -> None:
    state = run_flow(discover)
    assert state.is_completed(), state.message


def _hours_of(frame: pl.DataFrame, item: FuturesInstrument) -> list[datetime]:
    mine = frame.filter((pl.col("market") == item.market) & (pl.col("mapped_instrument") == item.mapped_instrument))
    return mine.get_column("datetime").to_list()


async def _progress(state: State[Any]) -> list[float]:
    """The progress artifacts of one flow run (their final percentages)."""
    run_id = state.state_details.flow_run_id
    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id] if run_id else []),
                type=ArtifactFilterType(any_=["progress"]),
            )
        )
    return [float(str(a.data)) for a in found]


@pytest.mark.sim(frozen=True)  # live fields (an ACTIVE instrument's LAST_* time) stand still: 0 changed on a re-run
def test_discovery_stores_every_status_and_reports_changes(flow_env: FlowEnv) -> None:
    since = datetime.now(UTC)
    state = run_flow(discover)
    assert state.is_completed(), state.message
    outcome = state.result()
    universe = flow_env.sim.universe
    expected = {(i.market, i.mapped_instrument) for i in universe.futures}
    instruments = outcome.table("market.cc_instruments_futures")
    assert instruments.inserted == len(expected)
    assert set(instruments.appeared) == {f"{m}/{i}" for m, i in expected}
    stored = flow_env.table("market.cc_instruments_futures", ["exchange_internal_name", "mapped_instrument_symbol"])
    pairs = set(zip(stored["exchange_internal_name"], stored["mapped_instrument_symbol"], strict=True))
    assert pairs == expected
    statuses = set(stored["instrument_status_on_exchange"].to_list())
    assert {"ACTIVE", "EXPIRED"} <= statuses  # every status is requested, not just ACTIVE
    resource = "ccdata.dataset.futures_instruments"
    added = asyncio.run(events("ccdata.futures_instruments.added", since, resource, at_least=2))
    by_table = {str(e["table"]): e for e in added}
    assert by_table["market.cc_instruments_futures"]["count"] == len(expected)
    assert set(by_table["market.cc_instruments_futures"]["items"]) == {f"{m}/{i}" for m, i in expected}

    # An instrument the API no longer lists keeps its row, is reported as removed and marked NOT_LISTED.
    ghost = stored.head(1).with_columns(pl.lit("GHOST-USDT-VANILLA-PERPETUAL").alias("mapped_instrument_symbol"))

    async def add_ghost() -> None:
        async with open_warehouse(flow_env.database) as wh:
            await wh.upsert(INSTRUMENTS_FUTURES, ghost)

    asyncio.run(add_ghost())
    since = datetime.now(UTC)
    again = run_flow(discover).result().table("market.cc_instruments_futures")
    assert (again.inserted, again.updated, again.changed) == (0, len(expected), 0)
    ghost_key = f"{ghost['exchange_internal_name'][0]}/GHOST-USDT-VANILLA-PERPETUAL"
    assert again.appeared == () and again.disappeared == (ghost_key,) and again.marked == 1
    (removed,) = asyncio.run(events("ccdata.futures_instruments.removed", since, resource))
    assert removed["items"] == [ghost_key]
    # "added" is emitted before "removed", so it would already be stored: one look is enough.
    assert asyncio.run(events("ccdata.futures_instruments.added", since, resource, attempts=1)) == []
    after = flow_env.table("market.cc_instruments_futures", ["exchange_internal_name", "mapped_instrument_symbol"])
    assert after.height == len(expected) + 1
    kept = after.filter(pl.col("mapped_instrument_symbol") == "GHOST-USDT-VANILLA-PERPETUAL")
    assert kept["instrument_status_on_exchange"].to_list() == ["NOT_LISTED"]


def test_ohlcv_fills_every_closed_hour_then_a_rerun_reads_only_the_revision_window(flow_env: FlowEnv) -> None:
    _discover(flow_env)
    active = _active(flow_env)
    flow_env.sim.reset_stats()
    hour_before = int(time.time()) // HOUR
    state = run_flow(ohlcv, interval="1h", instruments_per_task=2)
    assert state.is_completed(), state.message
    summary = state.result()
    now = int(time.time())
    first_table = flow_env.table(OHLCV_1H, KEY)
    minimum_calls = 0
    for item in active:
        expected = _expected_hours(item, now)
        assert _hours_of(first_table, item) == expected, item.mapped_instrument  # gap-free, open hour excluded
        minimum_calls += math.ceil(len(expected) / 2000)
    assert summary.calls == flow_env.history_calls() == minimum_calls
    assert summary.rows_inserted == first_table.height
    assert first_table.select(KEY).is_duplicated().sum() == 0
    artifact = asyncio.run(artifact_rows("futures-ohlcv-1h-summary"))
    assert sorted(str(r["mapped_instrument"]) for r in artifact) == sorted(i.mapped_instrument for i in active)
    assert {r["status"] for r in artifact} == {"ok"}
    assert sum(int(str(r["inserted"])) for r in artifact) == first_table.height
    assert asyncio.run(_progress(state)) == [100.0]
    # The usage records run beside the plan and the run log, never beside a call: pre ends before the first ingest
    # task starts, post starts after the last one ends, and the pair is stored.
    spans = asyncio.run(_task_spans(state))
    ingest = [span for name, span in spans.items() if name.startswith("ingest-")]
    assert len(ingest) == math.ceil(len(active) / 2)
    assert spans["record-api-usage-pre"][1] <= min(start for start, _ in ingest)
    assert spans["record-api-usage-post"][0] >= max(end for _, end in ingest)
    usage = flow_env.table(USAGE, ["timestamp", "record_timing"]).filter(pl.col("use_case").str.contains("ohlcv"))
    assert sorted(usage["record_timing"].to_list()) == ["post", "pre"]

    flow_env.sim.reset_stats()
    rerun = run_flow(ohlcv, interval="1h", instruments_per_task=2)
    assert rerun.is_completed(), rerun.message
    again = rerun.result()
    hour_after = int(time.time()) // HOUR
    second_table = flow_env.table(OHLCV_1H, KEY)
    # One call per active instrument either way: the revision window (3 hours) is read again, and nothing changed.
    assert flow_env.history_calls() == again.calls == len(active)
    assert again.rows_changed == 0
    if hour_after == hour_before:
        assert again.rows_inserted == 0 and again.rows_unchanged == 3 * len(active)
    else:  # an hour closed between the runs: one new row per active instrument
        assert again.rows_inserted == len(active)
    unchanged = second_table.join(first_table.select(KEY), on=KEY, how="semi").drop("collected_at")
    assert unchanged.equals(first_table.drop("collected_at"))


def test_expired_instruments_stop_at_their_last_data(flow_env: FlowEnv) -> None:
    _discover(flow_env)
    universe = flow_env.sim.universe
    expired = [i for i in universe.futures if i.status(universe.now) == "EXPIRED"]
    assert expired
    state = run_flow(ohlcv, interval="1h", instrument_status=["EXPIRED"])
    assert state.is_completed(), state.message
    table = flow_env.table(OHLCV_1H, KEY)
    for item in expired:
        assert _hours_of(table, item) == _expected_hours(item, universe.now), item.mapped_instrument
    assert set(table["mapped_instrument"]) == {i.mapped_instrument for i in expired}


def test_dry_run_plans_without_history_calls(flow_env: FlowEnv) -> None:
    _discover(flow_env)
    flow_env.sim.reset_stats()
    state = run_flow(ohlcv, interval="1h", dry_run=True)
    assert state.is_completed(), state.message
    plan = state.result()
    assert flow_env.history_calls() == 0
    assert flow_env.table(OHLCV_1H, KEY).height == 0
    now = int(time.time())
    expected = {
        (i.market, i.mapped_instrument): math.ceil(len(_expected_hours(i, now)) / 2000) for i in _active(flow_env)
    }
    planned = {(str(r["market"]), str(r["mapped_instrument"])): int(str(r["calls"])) for r in plan.rows}
    assert planned == expected
    assert plan.planned_calls == sum(expected.values())
    assert plan.estimated_seconds > 0
    assert flow_env.table(USAGE, ["timestamp"]).filter(pl.col("use_case").str.contains("ohlcv")).height == 0


def _failed_summary(state: State[Any]) -> RunSummary:
    error = state.result(raise_on_failure=False)
    assert isinstance(error, RunFailed) and isinstance(error.summary, RunSummary)  # the Failed state carries it
    return error.summary


def test_a_permanent_error_fails_the_run_at_once_by_name_and_spares_the_others(flow_env: FlowEnv) -> None:
    _discover(flow_env)
    active = _active(flow_env)
    broken = active[0]
    flow_env.sim.set_faults(
        permanent_failures=[{"market": broken.market, "instrument": broken.mapped_instrument, "status": 400}]
    )
    flow_env.sim.reset_stats()
    started = time.monotonic()
    state = run_flow(futures_ohlcv, interval="1h", instruments_per_task=100)  # retries as deployed: flow and task
    elapsed = time.monotonic() - started
    assert state.is_failed()
    label = f"{broken.market}/{broken.mapped_instrument}"
    assert (state.message or "").startswith(f"1 of {len(active)} series failed: {label}: HTTP 400: ")
    summary = _failed_summary(state)
    assert [f.split(": ")[0] for f in summary.failed] == [label]
    assert summary.failure_kinds == ["api-fatal"] and not summary.retriable
    # The reason in full, in its own artifact (the summary table's detail cell is cut off in the UI).
    markdown = asyncio.run(artifact_text("futures-ohlcv-1h-summary-failures"))
    assert f"- `{label}`: HTTP 400: " in markdown and summary.failed[0].split(": ", 1)[1] in markdown, markdown
    table = flow_env.table(OHLCV_1H, KEY)
    now = int(time.time())
    for item in active[1:]:
        assert _hours_of(table, item) == _expected_hours(item, now), item.mapped_instrument
    per_instrument = flow_env.sim.stats()["calls_per_instrument"]
    # A 400 cannot succeed on a retry: one request, no task retry, no flow retry (the flow has retries=1).
    assert per_instrument[broken.market][broken.mapped_instrument] == 1
    assert asyncio.run(_task_runs(state)) == [(1, "Failed")]  # one group, one attempt, no flow retry
    assert elapsed < 30, f"a permanent failure took {elapsed:.1f}s to end the run"


def test_a_transient_error_is_retried_and_done_instruments_cost_nothing(flow_env: FlowEnv) -> None:
    _discover(flow_env)
    active = _active(flow_env)
    broken = active[0]
    flow_env.sim.set_faults(
        permanent_failures=[{"market": broken.market, "instrument": broken.mapped_instrument, "status": 500}]
    )
    flow_env.sim.reset_stats()
    state = run_flow(ohlcv, interval="1h", instruments_per_task=100)
    assert state.is_failed()
    summary = _failed_summary(state)
    assert summary.retriable and summary.failure_kinds == ["api-transient"]
    per_instrument = flow_env.sim.stats()["calls_per_instrument"]
    # 3 task attempts (2 task retries) x 2 HTTP attempts each (API_MAX_RETRIES=1); the others were called once.
    assert per_instrument[broken.market][broken.mapped_instrument] == 6
    for item in active[1:]:
        assert per_instrument[item.market][item.mapped_instrument] == 1, item.mapped_instrument


def test_counts_cover_every_task_attempt(flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECORD_API_USAGE", "false")  # the usage record's call would take the injected failures
    _discover(flow_env)
    active = _active(flow_env)
    flow_env.sim.reset_stats()
    # The first instrument's first call fails twice (its request and the client's one retry): the group fails
    # after the other instruments are done; its task retry finishes the first instrument only.
    flow_env.sim.set_faults(fail_next=2, fail_next_status=503)
    state = run_flow(ohlcv, interval="1h", instruments_per_task=100, max_concurrency=1)
    assert state.is_completed(), state.message
    summary = state.result()
    table = flow_env.table(OHLCV_1H, KEY)
    assert summary.rows_inserted == table.height  # attempt 1 wrote most rows, attempt 2 the rest
    artifact = asyncio.run(artifact_rows("futures-ohlcv-1h-summary"))
    assert {r["status"] for r in artifact} == {"ok"}  # not "up to date" for the ones attempt 1 finished
    assert sum(int(str(r["inserted"])) for r in artifact) == table.height
    assert summary.calls == len(active) + 1  # the first instrument was called in both attempts
    assert summary.http_attempts == len(active) + 2  # its first call was sent twice (one client retry)


def test_bad_rows_are_quarantined_and_good_rows_load(flow_env: FlowEnv) -> None:
    _discover(flow_env)
    period = _corruption_period(int(time.time()))
    flow_env.sim.set_faults(corrupt_every=period)
    state = run_flow(ohlcv, interval="1h")
    assert state.is_completed(), state.message  # bad rows are not a failure
    summary = state.result()
    now = int(time.time())
    table = flow_env.table(OHLCV_1H, KEY)
    bad_total = 0
    for item in _active(flow_env):
        expected = _expected_hours(item, now)
        bad = [h for h in expected if int(h.replace(tzinfo=UTC).timestamp()) // HOUR % period == 0]
        assert bad, "the fault must hit some hours"
        assert _hours_of(table, item) == [h for h in expected if h not in bad], item.mapped_instrument
        bad_total += len(bad)
    assert summary.quarantined == bad_total
    quarantine = flow_env.table("market.ingest_quarantine", ["dataset", "record_key"])
    assert quarantine.height == bad_total
    assert set(quarantine["dataset"]) == {"futures_ohlcv_1h"}
    assert all("high" in reason.lower() and "low" in reason.lower() for reason in quarantine["reason"])
    assert flow_env.table("market.ingest_holes", ["series", "bucket"]).height == bad_total
    assert summary.holes_open == bad_total

    # The corruption was transient: a clean incremental run repairs every hole, in the call it makes anyway.
    flow_env.sim.set_faults(corrupt_every=0)
    flow_env.sim.reset_stats()
    clean = run_flow(ohlcv, interval="1h")
    assert clean.is_completed(), clean.message
    repaired = clean.result()
    gaps = asyncio.run(_gaps(flow_env, OHLCV_1H))
    print(f"corrupt-then-clean: {bad_total} holes, repaired {repaired.holes_repaired}, gaps after {sum(gaps)}, "
          f"{repaired.calls} calls for {len(_active(flow_env))} instruments")  # fmt: skip
    assert sum(gaps) == 0
    assert repaired.holes_repaired == bad_total and repaired.holes_open == repaired.holes_permanent == 0
    assert flow_env.table("market.ingest_holes", ["series", "bucket"]).height == 0
    table = flow_env.table(OHLCV_1H, KEY)
    for item in _active(flow_env):
        assert _hours_of(table, item) == _expected_hours(item, int(time.time())), item.mapped_instrument
    assert flow_env.history_calls() == repaired.calls <= len(summary.rows)  # at most one call per series


def test_a_bucket_that_stays_corrupt_becomes_a_permanent_hole_and_is_no_longer_requested(
    flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_HOLE_ATTEMPTS", "2")
    monkeypatch.setenv("INGEST_REVISION_BUCKETS", "1h=0")  # no revision window: every call made here is a repair
    _discover(flow_env)
    item = _active(flow_env)[0]
    one = {"markets": [item.market], "instruments": [item.mapped_instrument]}
    flow_env.sim.set_faults(corrupt_every=_corruption_period(int(time.time())))
    first = run_flow(ohlcv, interval="1h", **one).result()
    assert first.holes_open > 0 and first.holes_permanent == 0
    flow_env.sim.reset_stats()
    second = run_flow(ohlcv, interval="1h", **one).result()  # asks again: still corrupt, second attempt
    assert flow_env.history_calls() == 1
    assert second.holes_permanent == first.holes_open and second.holes_open == 0
    assert "holes: 0 repaired, 0 still open" in second.headline()
    flow_env.sim.reset_stats()
    third = run_flow(ohlcv, interval="1h", **one)
    assert third.is_completed(), third.message  # reported, not a failure
    assert flow_env.history_calls() == 0  # permanent holes are no longer requested
    assert third.result().holes_permanent == first.holes_open
    runs = flow_env.table("market.ingest_run_log", ["started_at"])
    assert runs["holes_permanent"].to_list()[-1] == first.holes_open


def test_gaps_recorded_by_the_coverage_tool_are_repaired_by_the_next_incremental_run(flow_env: FlowEnv) -> None:
    _discover(flow_env)
    assert run_flow(ohlcv, interval="1h").is_completed()
    full = flow_env.table(OHLCV_1H, KEY)
    item = _active(flow_env)[0]
    hours = _hours_of(full, item)

    async def punch() -> int:
        async with open_warehouse(flow_env.database) as wh:
            spec = get_table(OHLCV_1H)
            doomed = pl.DataFrame(
                {"datetime": hours[5:8], "market": [item.market] * 3, "mapped_instrument": [item.mapped_instrument] * 3}
            )
            await wh.delete_keys(spec, doomed)  # rows deleted by hand: the pipeline never saw it
            return await record_gaps(wh, spec)

    assert asyncio.run(punch()) == 3
    assert sum(asyncio.run(_gaps(flow_env, OHLCV_1H))) == 3
    flow_env.sim.reset_stats()
    state = run_flow(ohlcv, interval="1h", markets=[item.market], instruments=[item.mapped_instrument])
    assert state.is_completed(), state.message
    assert state.result().holes_repaired == 3 and flow_env.history_calls() == 1
    assert sum(asyncio.run(_gaps(flow_env, OHLCV_1H))) == 0
    after = flow_env.table(OHLCV_1H, KEY).drop("collected_at")
    before = full.drop("collected_at")
    assert after.join(before, on=KEY, how="semi").equals(before)  # the deleted rows are back, as they were


async def _gaps(env: FlowEnv, table: str) -> list[int]:
    async with open_warehouse(env.database) as wh:
        return [r.gaps for r in await coverage(wh, get_table(table))]


def test_metadata_first_data_too_early_skips_the_empty_windows_without_error(flow_env: FlowEnv) -> None:
    _discover(flow_env)
    item = _active(flow_env)[0]
    early = _naive(item.first_trade - 5 * 86_400)

    async def make_metadata_wrong() -> None:
        async with open_warehouse(flow_env.database) as wh:
            frame = await wh.select(
                INSTRUMENTS_FUTURES,
                where={"exchange_internal_name": item.market, "mapped_instrument_symbol": item.mapped_instrument},
            )
            await wh.upsert(INSTRUMENTS_FUTURES, frame.with_columns(pl.lit(early).alias("first_trade_datetime")))

    asyncio.run(make_metadata_wrong())
    flow_env.sim.reset_stats()
    state = run_flow(ohlcv, interval="1m", markets=[item.market], instruments=[item.mapped_instrument])
    assert state.is_completed(), state.message
    summary = state.result()
    assert flow_env.sim.stats()["status_counts"].get("404") == 1  # one request before the data, then it moved on
    (row,) = summary.rows
    assert row["status"] == "ok"

    async def cov() -> list[tuple[datetime, int, int]]:
        async with open_warehouse(flow_env.database) as wh:
            return [(r.first, r.rows, r.gaps) for r in await coverage(wh, get_table("market.cc_futures_ohlcv_1m"))]

    ((first, rows, gaps),) = asyncio.run(cov())
    assert first == _naive(item.first_trade // 60 * 60)
    assert gaps == 0 and rows == summary.rows_inserted


@pytest.mark.parametrize(
    ("flow", "table", "first_of"),
    [
        (futures_funding_rate, "market.cc_futures_funding_rate_ohlc_1h", "first_funding"),
        (futures_open_interest, "market.cc_futures_open_interest_ohlc_1h", "first_open_interest"),
    ],
)
def test_funding_rate_and_open_interest_flows_fill_their_range(
    flow_env: FlowEnv, flow: Flow[..., Any], table: str, first_of: str
) -> None:
    _discover(flow_env)
    state = run_flow(flow.with_options(retries=0), interval="1h")
    assert state.is_completed(), state.message
    summary = state.result()
    now = int(time.time())
    stored = flow_env.table(table, KEY)
    with_data = [i for i in _active(flow_env) if getattr(i, first_of) is not None]
    assert with_data
    for item in with_data:
        first = int(getattr(item, first_of)) // HOUR * HOUR
        expected = [h for h in _expected_hours(item, now) if h >= _naive(first)]
        assert _hours_of(stored, item) == expected, item.mapped_instrument
    assert summary.rows_inserted == stored.height
    assert set(stored["mapped_instrument"]) == {i.mapped_instrument for i in with_data}


async def _task_spans(state: State[Any]) -> dict[str, tuple[datetime, datetime]]:
    """(start, end) of every task run of one flow run, by task run name (ingest names made unique)."""
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    async with get_client() as client:
        runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    spans: dict[str, tuple[datetime, datetime]] = {}
    for n, run in enumerate(runs):
        assert run.start_time is not None and run.end_time is not None, run.name
        name = f"{run.name}#{n}" if run.name.startswith("ingest-") else run.name
        spans[name] = (run.start_time, run.end_time)
    return spans


async def _task_runs(state: State[Any]) -> list[tuple[int, str]]:
    """(flow attempt, state name) of every ingest task run of one flow run."""
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    async with get_client() as client:
        runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="ingest-")),
        )
    return sorted((r.flow_run_run_count, str(r.state.name) if r.state else "?") for r in runs)


def test_flow_retry_runs_only_the_groups_that_failed(flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_TASK_RETRIES", "0")  # the broken group fails at once; the flow retry re-runs it
    _discover(flow_env)
    active = _active(flow_env)
    broken = active[0]
    failure = {"market": broken.market, "instrument": broken.mapped_instrument, "status": 503}
    flow_env.sim.set_faults(permanent_failures=[failure])
    flow_env.sim.reset_stats()
    retried = futures_ohlcv.with_options(retries=1, retry_delay_seconds=0)
    state = run_flow(retried, interval="1h", instruments_per_task=1)
    assert state.is_failed()
    # Attempt 1 ran every group (one failed). Attempt 2 re-planned from the watermarks: the groups that completed
    # had nothing left and got no task run at all; only the failed group ran again.
    expected = [(1, "Completed")] * (len(active) - 1) + [(1, "Failed"), (2, "Failed")]
    assert asyncio.run(_task_runs(state)) == sorted(expected)
    per_instrument = flow_env.sim.stats()["calls_per_instrument"]
    assert per_instrument[broken.market][broken.mapped_instrument] == 2 * 2  # 2 flow attempts x 2 HTTP attempts
    assert sum(n for market in per_instrument.values() for n in market.values()) == len(active) - 1 + 4


def test_lookback_refetches_revised_buckets(flow_env: FlowEnv) -> None:
    _discover(flow_env)
    active = _active(flow_env)
    assert run_flow(ohlcv, interval="1h").is_completed()
    before = flow_env.table(OHLCV_1H, KEY)
    flow_env.sim.set_faults(revision=1)  # the API now serves different values for past buckets
    flow_env.sim.reset_stats()
    hour = int(time.time()) // HOUR
    state = run_flow(ohlcv, interval="1h", lookback=5)
    assert state.is_completed(), state.message
    summary = state.result()
    new_hour = int(time.time()) // HOUR != hour  # an hour closed during the test: one new row each, same call
    assert flow_env.history_calls() == len(active)  # the last 5 stored buckets (+ any new one) fit in one call
    assert summary.rows_changed + summary.rows_unchanged == 5 * len(active)
    assert summary.rows_inserted == (len(active) if new_hour else 0)
    after = flow_env.table(OHLCV_1H, KEY)
    values = [c for c in before.columns if c not in (*KEY, "collected_at")]
    joined = after.join(before, on=KEY, suffix="_old")
    changed = joined.filter(pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"{c}_old")) for c in values]))
    assert changed.height == 5 * len(active)
    newest = {(i.market, i.mapped_instrument): _hours_of(before, i)[-5:] for i in active}
    assert all(
        row["datetime"] in newest[(row["market"], row["mapped_instrument"])] for row in changed.iter_rows(named=True)
    )
