"""Thirteen API fault scenarios against the simulator: each run completes or fails cleanly; re-runs equal a clean run.

Each scenario runs a backfill through the real flow (Prefect server, simulator over a socket, MariaDB) while the
simulator injects one kind of fault, checks that the faults were really served, then runs again without faults and
compares the table with a clean run of the same range: the same rows and values (``collected_at`` aside), no
duplicate key, no gap. A faulty run may end Failed only for a retriable reason (the flow retry or the next schedule
would finish it); a run that fails for a reason that cannot succeed on a retry is a bug here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from singlestoredb.connection import connect

from flows._registry import build_flow
from ingestion_core.errors import RunFailed
from tests.faults.conftest import Snapshot, read_table
from tests.integration.flows.conftest import FlowEnv, run_flow
from tests.plugin_db import MARIADB_HOST, MARIADB_PORT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MINUTE, HOUR, DAY = 60, 3_600, 86_400

# (id, dataset, interval, fault knobs); futures candles over 2 days of 1m (2 calls per perpetual), Min API prices
# over 3 days of 1h.
SCENARIOS: list[tuple[str, str, dict[str, Any]]] = [
    ("storm-retry-after-seconds", "futures_ohlcv", {"storm_requests": 12, "storm_retry_after": "seconds"}),
    ("storm-retry-after-http-date", "futures_ohlcv", {"storm_requests": 12, "storm_retry_after": "http-date"}),
    ("storm-no-retry-after", "futures_ohlcv", {"storm_requests": 12, "storm_retry_after": "none"}),
    ("storm-3-seconds", "futures_ohlcv", {"storm_seconds": 3.0}),
    ("5xx-burst", "futures_ohlcv", {"fail_next": 8, "fail_next_status": 503}),
    ("random-500-502-504", "futures_ohlcv", {"error_rates": {500: 0.15, 502: 0.15, 504: 0.15}}),
    ("hangs-past-the-timeout", "futures_ohlcv", {"timeout_rate": 0.25, "timeout_seconds": 4.0}),
    ("truncated-bodies", "futures_ohlcv", {"truncate_rate": 0.3}),
    ("malformed-bodies", "futures_ohlcv", {"malformed_rate": 0.3}),
    ("connection-resets", "futures_ohlcv", {"reset_rate": 0.3}),
    ("slow-and-jittery", "futures_ohlcv", {"latency_seconds": 0.6, "jitter_seconds": 1.4}),  # some pass the timeout
    (
        "everything-at-once",
        "futures_ohlcv",
        {
            "storm_requests": 4,
            "error_rates": {503: 0.1},
            "truncate_rate": 0.1,
            "reset_rate": 0.1,
            "timeout_rate": 0.05,
            "timeout_seconds": 4.0,
        },
    ),
    ("min-api-rate-limit-and-5xx", "crypto_prices", {"storm_requests": 6, "error_rates": {502: 0.2}}),
]
TABLES = {"futures_ohlcv": "market.cc_futures_ohlcv_1m", "crypto_prices": "market.cc_crypto_prices_1h"}
_clean: dict[tuple[str, int], Snapshot] = {}


def _naive(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def _parameters(dataset: str, anchor: int) -> dict[str, Any]:
    if dataset == "futures_ohlcv":
        start = anchor  # every perpetual has traded since (history_days=1)
        return {
            "interval": "1m",
            "start": _naive(start),
            "end": _naive(start + 2 * DAY - MINUTE),
            "instruments_per_task": 2,
        }
    return {"interval": "1h", "pairs": ["BTC/USD", "ETH/USD", "BTC/EUR"], "start": _naive(anchor - 3 * DAY),
            "end": _naive(anchor - HOUR)}  # fmt: skip


def _empty(env: FlowEnv, table: str) -> None:
    conn = connect(host=MARIADB_HOST, port=MARIADB_PORT, user="root", password="", database=env.database.name)
    try:
        conn.cursor().execute(f"DELETE FROM `{table.split('.')[-1]}`")
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(("dataset", "faults"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
@pytest.mark.sim(anchor_days_ago=6, history_days=1)
def test_a_faulty_run_then_a_rerun_equals_a_clean_run(
    dataset: str, faults: dict[str, Any], flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_MAX_RETRIES", "8")
    monkeypatch.setenv("API_RETRY_MAX_WAIT_SECONDS", "2")
    monkeypatch.setenv("API_REQUEST_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("API_MALFORMED_BODY_RETRIES", "4")
    table = TABLES[dataset]
    anchor = flow_env.sim.simulator.config.anchor
    parameters = _parameters(dataset, anchor)
    flow = build_flow(dataset).with_options(retries=0)
    if dataset == "futures_ohlcv":
        assert run_flow(build_flow("futures_instruments").with_options(retries=0)).is_completed()
    if (table, anchor) not in _clean:  # the simulator is deterministic: one clean run serves every scenario
        clean = run_flow(flow, **parameters)
        assert clean.is_completed(), clean.message
        _clean[(table, anchor)] = read_table(flow_env.database, table)
        _empty(flow_env, table)
    expected = _clean[(table, anchor)]
    assert expected.frame.height > 0 and expected.duplicates == 0 and set(expected.gaps) == {0}

    flow_env.sim.reset_stats()
    flow_env.sim.set_faults(**faults)
    faulty = run_flow(flow, **parameters)
    injected = flow_env.sim.stats()["faults_injected"]
    assert sum(injected.values()) > 0, "no fault was served: the scenario tested nothing"
    print(f"faulty run {faulty.name}; faults served {injected}")  # shown with -rA: the closing notes quote it
    if not faulty.is_completed():
        error = faulty.result(raise_on_failure=False)
        assert isinstance(error, RunFailed) and error.retriable, f"failed for a final reason: {faulty.message}"
    flow_env.sim.set_faults(storm_requests=0, storm_seconds=0.0, fail_next=0, error_rates={}, timeout_rate=0.0,
                            truncate_rate=0.0, malformed_rate=0.0, reset_rate=0.0, latency_seconds=0.0,
                            jitter_seconds=0.0)  # fmt: skip
    rerun = run_flow(flow, **parameters)
    assert rerun.is_completed(), rerun.message
    got = read_table(flow_env.database, table)
    assert got.duplicates == 0 and set(got.gaps) == {0}
    assert got.frame.equals(expected.frame), f"{faulty.name} then re-run differs from a clean run"
