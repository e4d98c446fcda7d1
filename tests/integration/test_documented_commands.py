"""The README's and the runbook's commands, run as written (``tests/documented_commands.py`` says how each is run).

The local ones run here, in stage order, against the simulator (its own thread, on a socket), an SQLite warehouse
in a scratch directory and the session's Prefect server; the ones needing deployments run in ``tests/e2e``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows._registry import OTHER_FLOWS
from ingestion_core.datasets import DATASETS
from ingestion_core.sim import SimConfig, SimulatorThread
from ingestion_core.snapshots import SNAPSHOTS
from tests.documented_commands import ROOT, concrete, documented, rule_for
from tests.plugin_db import require_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_every_documented_command_is_run_or_exempt_for_a_written_reason() -> None:
    problems = []
    for command in documented():
        try:
            rule = rule_for(command.text)
        except LookupError as exc:
            problems.append(f"{', '.join(command.docs)}: {exc}")
            continue
        if rule.where == "exempt" and not rule.why:
            problems.append(f"{command.text!r} is exempt without a reason")
    assert not problems, "\n".join(problems)


def _argv(words: list[str]) -> list[str]:
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    if words[0] == "prefect":
        return [str(Path(sys.executable).parent / "prefect"), *words[1:]]
    return words


def _env(tmp: Path, sim_url: str, api_url: str) -> dict[str, str]:
    drop = ("PREFECT_", "DATABASE_URL", "DB_", "CCDATA_", "DATA_API", "MIN_API", "API_", "ALERT_", "TARGET_SCHEMA")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        PREFECT_API_URL=api_url,
        DATABASE_URL=f"sqlite:///{tmp / 'warehouse.sqlite'}",
        DATA_API_BASE_URL=sim_url,
        MIN_API_BASE_URL=sim_url,
        CCDATA_API_KEY="docs-key",
        API_REQUESTS_PER_SECOND="1000",
    )
    return env


def test_the_local_commands_run_as_written(prefect_server: str, tmp_path: Path) -> None:
    require_port("127.0.0.1", 6379, "Redis")  # the fan-out commands share a budget there
    local = [c for c in documented() if rule_for(c.text).where == "local"]
    local.sort(key=lambda c: rule_for(c.text).stage)  # stable: document order within a stage
    config = SimConfig(
        futures_markets=("binance", "bybit", "okx", "deribit", "kraken"),
        instruments_per_market=2,
        dated_per_market=0,
        expired_per_market=0,
        spot_markets=("kraken",),
        pairs_per_market=1,
        assets=5,
        index_instruments=1,
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    shutil.copy(ROOT / ".env.example", scratch / ".env.example")
    ran: list[str] = []
    failed: list[str] = []
    with SimulatorThread(config) as sim:
        env = _env(tmp_path, sim.base_url, prefect_server)
        for command in local:
            runs = concrete(command.text)
            if command.text == "python -m flows.X":
                runs = [["python", "-m", f"flows.{name}", "--help"] for name in [*DATASETS, *SNAPSHOTS, *OTHER_FLOWS]]
            extra: dict[str, str] = {}
            cwd = ROOT
            if command.text.startswith("cp "):
                cwd = scratch
            if command.text.startswith("python -m flows.futures_ohlcv"):
                extra["API_SHARED_BUDGET_URL"] = REDIS_URL
            if "local_server" in command.text or command.text == "make server":
                extra["PREFECT_HOME"] = str(tmp_path / "prefect-home")
            for words in runs:
                started = time.monotonic()
                done = subprocess.run(
                    _argv(words), cwd=cwd, env={**env, **extra}, capture_output=True, text=True, timeout=600
                )
                line = f"{' '.join(words)} -> exit {done.returncode} in {time.monotonic() - started:.1f} s"
                ran.append(line)
                if done.returncode != 0:
                    failed.append(f"{line}\n{(done.stdout + done.stderr)[-1500:]}")
    assert (scratch / ".env").read_bytes() == (ROOT / ".env.example").read_bytes()
    print(f"\n{len(local)} documented local commands, {len(ran)} runs:\n" + "\n".join(ran), flush=True)
    assert not failed, "\n\n".join(failed)
