"""The bad-input table: every kind of wrong parameter or setting, as a user types it, fails fast, in one line.

Each case runs a flow's command line (``python -m flows.<name> ...``) in a child process against the simulator,
MariaDB and a real Prefect server, after a clean run stored some rows. Every case asserts the exit status (2 for a
usage error, 1 for a configuration error), that the error is one ``error: ...`` line at the end of stderr with no
traceback and no secret, the time to fail, and that the table still equals the clean run's (nothing written,
nothing lost). Errors found at the door (parameters, settings, the login, the selection: before Prefect starts)
print nothing else; an error only the API can tell (an unknown pair) ends a run that Prefect logged, and still
ends with the one line.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pytest

from ingestion_core.db import get_table, open_warehouse
from ingestion_core.settings import DatabaseSettings
from ingestion_core.sim import SimulatorThread
from tests.integration.flows.conftest import flow_sim_config
from tests.plugin_db import MARIADB_HOST, MARIADB_PORT, mariadb_settings_for, throwaway_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TABLE = get_table("market.cc_futures_ohlcv_1d")
SECRET = "Db/Pa?ss#w@rd:Marker"
DOOR_SECONDS = 10.0  # errors found before Prefect starts (target: well under a second)
RUN_SECONDS = 45.0  # errors found by a run: Prefect's import and the run's start come first


@dataclass(frozen=True)
class Case:
    """One bad input: the flow, its arguments, the environment changed, what must come out."""

    id: str
    flow: str
    argv: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    exit: int = 2
    says: str = ""  # a fragment of the one error line
    door: bool = True  # refused before Prefect is imported


CASES = [
    # -- parameters: usage errors (exit 2), refused by the argument parser or the parameter model -----------------
    Case("unknown-interval", "futures_ohlcv", ("--interval", "5m"), says="invalid choice: '5m'"),
    Case("interval-without-table", "index_ohlcv", ("--interval", "1h"), says="invalid choice: '1h'"),
    Case("start-not-a-date", "futures_ohlcv", ("--start", "yesterday"), says="not an ISO date/time"),
    Case("end-not-a-date", "futures_ohlcv", ("--end", "2024-13-01"), says="not an ISO date/time"),
    Case("start-after-end", "futures_ohlcv", ("--start", "2024-02-01", "--end", "2024-01-01"), says="is after end"),
    Case("negative-lookback", "futures_ohlcv", ("--lookback", "-5"), says="lookback: Input should be greater"),
    Case("lookback-not-a-number", "futures_ohlcv", ("--lookback", "x"), says="invalid int value"),
    Case("zero-per-task", "futures_ohlcv", ("--instruments-per-task", "0"), says="instruments_per_task"),
    Case("negative-per-task", "futures_ohlcv", ("--instruments-per-task", "-1"), says="instruments_per_task"),
    Case("zero-concurrency", "futures_ohlcv", ("--max-concurrency", "0"), says="max_concurrency"),
    Case("unknown-status", "futures_ohlcv", ("--instrument-status", "LIVE"), says="invalid choice: 'LIVE'"),
    Case("unknown-option", "futures_ohlcv", ("--intervall", "1d"), says="unrecognized arguments"),
    Case("zero-asset-limit", "spot_ohlcv", ("--asset-limit", "0"), says="asset_limit"),
    Case("huge-asset-limit", "index_ohlcv", ("--asset-limit", "10000000"), says="asset_limit"),
    Case("pair-without-slash", "crypto_prices", ("--pairs", "BTCUSD"), says="pairs must be FSYM/TSYM"),
    Case("exchange-with-spaces", "crypto_prices", ("--exchange", "bad name"), says="exchange"),
    Case("snapshot-unknown-option", "asset_metadata", ("--interval", "1d"), says="unrecognized arguments"),
    Case("empty-market", "futures_instruments", ("--markets", ""), says="markets.0: an empty or blank item"),
    Case("blank-market", "futures_ohlcv", ("--markets", "binance", " "), says="markets.1: an empty or blank item"),
    Case("empty-instrument", "futures_ohlcv", ("--instruments", ""), says="instruments.0: an empty or blank item"),
    # -- settings: configuration errors (exit 1) ------------------------------------------------------------------
    Case("negative-retries", "futures_ohlcv", env={"API_MAX_RETRIES": "-1"}, exit=1, says="API_MAX_RETRIES"),
    Case("url-without-host", "futures_ohlcv", env={"DATA_API_BASE_URL": "http://"}, exit=1, says="must name a host"),
    Case("url-not-http", "futures_ohlcv", env={"MIN_API_BASE_URL": "ftp://x"}, exit=1, says="MIN_API_BASE_URL"),
    Case("zero-budget", "futures_ohlcv", env={"API_REQUESTS_PER_SECOND": "0"}, exit=1, says="API_REQUESTS_PER"),
    Case("port-out-of-range", "futures_ohlcv", env={"DB_PORT": "99999"}, exit=1, says="DB_PORT"),
    Case(
        "zero-per-task-setting",
        "futures_ohlcv",
        env={"INGEST_INSTRUMENTS_PER_TASK": "0"},
        exit=1,
        says="INGEST_INSTRUMENTS_PER_TASK",
    ),
    Case("bad-price-pairs", "crypto_prices", env={"CRYPTO_PRICE_PAIRS": "BTC-USD"}, exit=1, says="FSYM/TSYM"),
    Case(
        "unencoded-password-url",
        "futures_ohlcv",
        env={"DATABASE_URL": f"mysql://root:{SECRET}@127.0.0.1/x"},
        exit=1,
        says="percent-encode",
    ),
    Case(
        "unknown-url-scheme", "futures_ohlcv", env={"DATABASE_URL": "postgres://u:p@h/db"}, exit=1, says="DATABASE_URL"
    ),
    Case(
        "url-port-not-a-number",
        "futures_ohlcv",
        env={"DATABASE_URL": "mysql://root@127.0.0.1:abc/db"},
        exit=1,
        says="the port must be a number from 1 to 65535, not 'abc'",
    ),
    Case(
        "url-port-out-of-range",
        "futures_ohlcv",
        env={"DATABASE_URL": f"mysql://root:{quote(SECRET, safe='')}@127.0.0.1:99999/db"},
        exit=1,
        says="the port must be a number from 1 to 65535, not '99999'",
    ),
    Case(
        "api-key-with-line-break",
        "futures_ohlcv",
        env={"CCDATA_API_KEY": "key-Marker\r\nX-Injected: 1"},
        exit=1,
        says="CCDATA_API_KEY: Value error, contains a control or invisible character",
    ),
    # -- found at the door by connecting and selecting (before Prefect): the instruments table, the login -------
    Case("unknown-market", "futures_ohlcv", ("--interval", "1d", "--markets", "nope"), says="nope", door=True),
    Case(
        "unknown-instrument",
        "futures_ohlcv",
        ("--interval", "1d", "--instruments", "NOPE-PERP"),
        says="NOPE-PERP",
        door=True,
    ),
    Case(
        "wrong-db-password",
        "futures_ohlcv",
        ("--interval", "1d"),
        env={"DB_PASSWORD": SECRET},
        exit=1,
        says="Access denied",
        door=True,
    ),
    Case(  # an empty DATABASE_URL is unset: the DB_* variables apply (here with a wrong password)
        "empty-url-is-unset",
        "futures_ohlcv",
        ("--interval", "1d"),
        env={"DATABASE_URL": "", "DB_PASSWORD": SECRET},
        exit=1,
        says="Access denied",
        door=True,
    ),
    Case("spot-before-metadata", "spot_ohlcv", (), exit=1, says="run the asset_metadata flow first", door=True),
    Case("snapshot-wrong-db-password", "asset_metadata", env={"DB_PASSWORD": SECRET}, exit=1, says="Access denied"),
    Case("top-list-wrong-db-password", "index_ohlcv", env={"DB_PASSWORD": SECRET}, exit=1, says="Access denied"),
    Case(
        "start-in-the-future",
        "futures_ohlcv",
        ("--interval", "1d", "--start", "2099-01-01"),
        says="start 2099-01-01 00:00 is after the last closed 1d bucket",
    ),
    Case(
        "range-before-any-data",
        "futures_ohlcv",
        ("--interval", "1d", "--start", "2001-01-01", "--end", "2001-02-01"),
        says="no selected series has data between 2001-01-01 00:00 and 2001-02-01 00:00",
    ),
    Case("end-before-any-data", "futures_ohlcv", ("--interval", "1h", "--end", "2001-02-01"), says="has data up to"),
    # -- found by the run: only the API knows ---------------------------------------------------------------------
    Case(
        "unknown-price-pair",
        "crypto_prices",
        ("--interval", "1d", "--pairs", "NOPE/USD"),
        exit=1,
        says="fsym param seems invalid",
        door=False,
    ),
]


@dataclass
class Stage:
    """The module's simulator, database and environment, with the table as the clean run left it."""

    env: dict[str, str]
    database: DatabaseSettings
    clean: pl.DataFrame


def _cli(flow: str, argv: tuple[str, ...], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", f"flows.{flow}", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    return done, time.monotonic() - started


def _table(settings: DatabaseSettings) -> pl.DataFrame:
    async def read() -> pl.DataFrame:
        async with open_warehouse(settings) as wh:
            return (await wh.select(TABLE)).sort(["market", "mapped_instrument", "datetime"])

    return asyncio.run(read())


@pytest.fixture(scope="module")
def stage(prefect_server: str) -> Iterator[Stage]:
    """One simulator and database for every case; the clean run goes through the command line too."""
    with throwaway_database("t_bad_") as name, SimulatorThread(flow_sim_config(int(time.time()))) as sim:
        database = mariadb_settings_for(name)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DB_", "API_", "INGEST_", "DATABASE_URL"))},
            "PYTHONPATH": str(ROOT),
            "PREFECT_API_URL": prefect_server,
            "DATA_API_BASE_URL": sim.base_url,
            "MIN_API_BASE_URL": sim.base_url,
            "CCDATA_API_KEY": "bad-input-test-key",
            "DB_HOST": MARIADB_HOST,
            "DB_PORT": str(MARIADB_PORT),
            "DB_USER": "root",
            "DB_PASSWORD": "",
            "DB_NAME": name,
            "API_MAX_RETRIES": "1",
            "API_RETRY_BACKOFF_FACTOR": "0.01",
        }
        for flow, argv in (("futures_instruments", ()), ("futures_ohlcv", ("--interval", "1d"))):
            done, _ = _cli(flow, argv, env)
            assert done.returncode == 0, done.stderr[-3000:]
        clean = _table(database)
        assert clean.height > 0
        yield Stage(env, database, clean)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_fast_in_one_line_and_changes_nothing(case: Case, stage: Stage) -> None:
    done, seconds = _cli(case.flow, case.argv, {**stage.env, **case.env})
    print(f"{case.id}: exit {done.returncode} in {seconds:.2f} s: {done.stderr.strip().splitlines()[-1:]}")
    output = done.stdout + done.stderr
    assert done.returncode == case.exit, output[-3000:]
    lines = done.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: ") and case.says in lines[-1], output[-3000:]
    assert sum(1 for line in lines if line.startswith("error: ")) == 1
    assert "Traceback" not in output and "Marker" not in output
    if case.door:
        assert lines == lines[-1:] and done.stdout == ""  # nothing but the one line
    assert seconds < (DOOR_SECONDS if case.door else RUN_SECONDS), f"{seconds:.1f} s"
    assert _table(stage.database).equals(stage.clean)
