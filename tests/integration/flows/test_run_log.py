"""The run log: every flow run writes one row with its figures, the same figures as its event, readable by a command.

Runs here: a snapshot, a completed time-series run, a dry run, and a run failing on one series, on a real Prefect
server with MariaDB; then ``python -m ingestion_core.db.runs`` reads them back.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows._registry import build_flow
from ingestion_core.errors import RunFailed
from ingestion_core.pipeline.summary import RunSummary
from tests.integration.flows.conftest import FlowEnv, events, run_flow

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def _runs(*argv: str) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "ingestion_core.db.runs", "--json", *argv],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_every_run_writes_one_row_with_its_figures(flow_env: FlowEnv) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    ohlcv = build_flow("futures_ohlcv").with_options(retries=0)
    discovery = run_flow(build_flow("futures_instruments").with_options(retries=0))
    assert discovery.is_completed()
    done = run_flow(ohlcv, interval="1h")
    summary = done.result()
    assert isinstance(summary, RunSummary) and summary.rows_inserted > 0
    dry = run_flow(ohlcv, interval="1d", dry_run=True)
    assert dry.is_completed()
    item = next(i for i in flow_env.sim.universe.futures if i.expiry is None)
    flow_env.sim.set_faults(permanent_failures=[{"market": item.market, "instrument": item.mapped_instrument}])
    failed = run_flow(ohlcv, interval="1d")
    assert failed.is_failed()
    error = failed.result(raise_on_failure=False)
    assert isinstance(error, RunFailed) and isinstance(error.summary, RunSummary)

    rows = _runs("--limit", "10")
    by_id = {str(r["flow_run_id"]): r for r in rows}
    assert len(rows) == 4  # every run, once
    snapshot = by_id[str(discovery.state_details.flow_run_id)]
    assert (snapshot["dataset"], snapshot["interval_name"], snapshot["state"]) == (
        "futures_instruments",
        None,
        "Completed",
    )
    assert snapshot["calls"] == 1 and snapshot["rows_inserted"] == discovery.result().metrics()["rows_inserted"] > 0
    row = by_id[str(done.state_details.flow_run_id)]
    assert (row["flow"], row["dataset"], row["interval_name"], row["state"], row["dry_run"]) == (
        "futures-ohlcv", "futures_ohlcv", "1h", "Completed", False,
    )  # fmt: skip
    for name in (
        "series",
        "calls",
        "http_attempts",
        "rate_limited",
        "rows_inserted",
        "rows_changed",
        "rows_unchanged",
        "quarantined",
    ):
        assert row[name] == getattr(summary, name), name
    assert row["latency_p95"] == summary.latency_p95 and row["failed_series"] == 0 and row["failure"] is None
    assert str(row["started_at"]) <= str(row["ended_at"])
    assert by_id[str(dry.state_details.flow_run_id)]["dry_run"] is True
    bad = by_id[str(failed.state_details.flow_run_id)]
    assert bad["state"] == "Failed" and bad["failed_series"] == 1
    assert str(bad["failure"]).startswith(f"1 of {error.summary.series} series failed: {item.market}/")
    assert [r["flow_run_id"] for r in rows] == sorted(by_id, key=lambda k: str(by_id[k]["started_at"]), reverse=True)
    assert [r["dataset"] for r in _runs("--dataset", "futures_instruments")] == ["futures_instruments"]

    finished = asyncio.run(events("ccdata.dataset.run-finished", since, "ccdata.dataset.futures_ohlcv.1h"))
    assert finished and all(finished[0][k] == row[k] for k in ("calls", "http_attempts", "rows_inserted"))  # same


def test_the_command_prints_a_table_and_refuses_a_bad_limit(flow_env: FlowEnv) -> None:
    assert run_flow(build_flow("futures_instruments").with_options(retries=0)).is_completed()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    table = subprocess.run([sys.executable, "-m", "ingestion_core.db.runs"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    assert table.returncode == 0 and "futures_instruments" in table.stdout and "Completed" in table.stdout
    bad = subprocess.run([sys.executable, "-m", "ingestion_core.db.runs", "--limit", "0"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr == "error: --limit must be at least 1\n"


def test_a_rate_limited_usage_record_is_not_retried_and_counts_in_the_run_figures(flow_env: FlowEnv) -> None:
    flow_env.sim.set_faults(storm_requests=1)  # the run's first request, its pre usage record, gets a 429
    state = run_flow(build_flow("exchanges_general").with_options(retries=0))
    assert state.is_completed(), state.message  # best effort: a failed record never fails the run
    outcome = state.result()
    assert flow_env.sim.stats()["responses_429"] == 1  # the record was not retried
    assert (outcome.calls, outcome.http_attempts, outcome.rate_limited) == (1, 3, 1)  # catalogue + pre + post
    row = next(
        r for r in _runs("--dataset", "exchanges_general") if r["flow_run_id"] == str(state.state_details.flow_run_id)
    )
    assert (row["calls"], row["http_attempts"], row["rate_limited"]) == (1, 3, 1)
    usage = flow_env.table("market.cc_rate_limit_status", ["timestamp"])
    assert usage.filter(usage["use_case"] == "ingest_exchanges_general_data")["record_timing"].to_list() == ["post"]
