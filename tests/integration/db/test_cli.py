"""The operator CLIs run as processes: coverage (text and JSON) and migrate (dry-run, create, apply-keys)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from ingestion_core.db import get_table, open_warehouse
from ingestion_core.settings import DatabaseSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def _run(module: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL", "DATA_DIR"))}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean, **env},
        timeout=120,
        check=False,
    )


async def test_coverage_cli_text_and_json(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    settings = DatabaseSettings(_env_file=None, database_url=f"sqlite:///{db}")
    hours = [0, 1, 2, 5]
    frame = pl.DataFrame(
        {
            "datetime": [datetime(2024, 1, 1) + timedelta(hours=h) for h in hours],
            "market": ["binance"] * 4,
            "instrument": ["BTC"] * 4,
            "mapped_instrument": ["BTC"] * 4,
        }
    )
    async with open_warehouse(settings) as wh:
        table = get_table("market.cc_futures_ohlcv_1h")
        await wh.ensure_schema([table])
        await wh.upsert(table, frame)
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    out = _run("ingestion_core.db.coverage", ["--table", "market.cc_futures_ohlcv_1h", "--json"], env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        {
            "market": "binance",
            "mapped_instrument": "BTC",
            "first": "2024-01-01T00:00:00",
            "last": "2024-01-01T05:00:00",
            "rows": 4,
            "expected": 6,
            "gaps": 2,
            "holes": 0,
            "revisions": 0,
        }
    ]
    text = _run("ingestion_core.db.coverage", ["--table", "market.cc_futures_ohlcv_1h", "--market", "binance"], env)
    assert text.stdout.splitlines()[0].split() == [
        "market",
        "mapped_instrument",
        "first",
        "last",
        "rows",
        "expected",
        "gaps",
        "holes",
        "revisions",
    ]
    bad = _run("ingestion_core.db.coverage", ["--table", "market.cc_assets"], env)
    assert bad.returncode == 2 and "not an interval time series" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_migrate_cli_dry_run_changes_nothing_then_creates(mariadb_settings: DatabaseSettings) -> None:
    env = {
        "DB_HOST": str(mariadb_settings.host),
        "DB_PORT": str(mariadb_settings.port),
        "DB_NAME": mariadb_settings.name,
    }
    dry = _run("ingestion_core.db.migrate", ["--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert "missing  market.cc_futures_ohlcv_1h" in dry.stdout
    created = _run("ingestion_core.db.migrate", [], env)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "all tables present with their keys"


def test_migrate_cli_dead_server_is_one_line_without_traceback() -> None:
    out = _run("ingestion_core.db.migrate", ["--dry-run"], {"DATABASE_URL": "mysql://u:hunter2secret@127.0.0.1:1/db"})
    assert out.returncode == 2
    assert "127.0.0.1:1" in out.stderr and "hunter2secret" not in out.stderr
    assert "Traceback" not in out.stderr
