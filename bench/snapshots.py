"""Snapshot datasets on the simulator's default universe: rows per table, calls, and what a re-run changes.

    .venv/bin/python -m bench.snapshots [--host 127.0.0.1] [--port 3306] [--no-write]

The simulator (``SimConfig()`` defaults: 2 futures markets, 2 spot markets, 30 assets; its clock stopped, so live
counters such as total trades stand still, as they would not on the real API) serves every snapshot; each dataset
is refreshed twice in a row through the core (``refresh_snapshot``, no Prefect) into one throw-away MariaDB
database, in the deployments' order. Reported per dataset: the API calls of each run (the pages or markets needed),
rows per table, and the second run's inserted and changed rows (both 0 for the metadata). Writes
bench/results/snapshots.json and the "## Snapshots" section of bench/RESULTS.md unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

HERE = Path(__file__).resolve().parent
RESULTS_JSON = HERE / "results" / "snapshots.json"
HEADING = "## Snapshots"
ORDER = ("asset_metadata", "exchanges_general", "spot_instruments", "futures_instruments", "api_usage")


async def measure(host: str, port: int) -> dict[str, Any]:
    from ingestion_core.db import open_warehouse
    from ingestion_core.db.singlestore import SingleStoreWarehouse
    from ingestion_core.settings import DatabaseSettings, load_settings
    from ingestion_core.sim import ManualClock, SimConfig, SimulatorThread
    from ingestion_core.snapshots import SNAPSHOTS

    assert set(ORDER) == set(SNAPSHOTS), "a snapshot dataset is missing from the benchmark's order"
    database = f"bench_snapshots_{uuid.uuid4().hex[:8]}"
    url = SecretStr(f"mysql://root@{host}:{port}/{database}")
    out: dict[str, Any] = {}
    with SimulatorThread(SimConfig(clock=ManualClock(time.time()))) as sim:
        settings = load_settings(
            env_file=None,
            api={"data_api_base_url": sim.base_url, "min_api_base_url": sim.base_url, "requests_per_second": 1000},
            database={"database_url": url},
        )
        async with open_warehouse(settings.database) as wh:
            await wh.create_database()
        try:
            for name in ORDER:
                spec = SNAPSHOTS[name]
                runs = []
                for _ in range(2):
                    await asyncio.sleep(1.05 - time.time() % 1)  # runs in distinct seconds (the usage record's key)
                    started = time.monotonic()
                    outcome = await refresh(spec, settings)
                    runs.append((outcome, round(time.monotonic() - started, 3)))
                (first, first_s), (second, second_s) = runs
                out[name] = {
                    "calls": [first.calls, second.calls],
                    "seconds": [first_s, second_s],
                    "failures": first.failures + second.failures,
                    "notes": {k: str(v) for k, v in first.notes.items()},
                    "tables": {
                        t.table: {
                            "rows": t.rows,
                            "rerun_inserted": u.inserted,
                            "rerun_changed": u.changed,
                            "rerun_disappeared": len(u.disappeared),
                        }
                        for t, u in zip(first.tables, second.tables, strict=True)
                    },
                }
        finally:
            async with open_warehouse(DatabaseSettings(_env_file=None, database_url=url)) as wh:
                assert isinstance(wh, SingleStoreWarehouse)
                await wh.drop_database()
    return out


async def refresh(spec: Any, settings: Any) -> Any:
    from ingestion_core.pipeline.snapshot import refresh_snapshot

    return await refresh_snapshot(spec, settings, spec.parameters())


def render(report: dict[str, Any]) -> str:
    rows = []
    for name, r in report["datasets"].items():
        for table, t in r["tables"].items():
            rows.append(
                f"| {name} | {r['calls'][0]} / {r['calls'][1]} | {table} | {t['rows']:,} | {t['rerun_inserted']} "
                f"| {t['rerun_changed']} | {t['rerun_disappeared']} |"
            )
    clean = all(
        t["rerun_inserted"] == 0 and t["rerun_changed"] == 0
        for name, r in report["datasets"].items()
        if name != "api_usage"
        for t in r["tables"].values()
    )
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `{report['command']}` (writes `bench/results/snapshots.json` and this section; measured "
            f"{report['measured_at']}). Simulator defaults (`SimConfig()`, clock stopped), MariaDB, core path "
            "(`refresh_snapshot`, no Prefect); each dataset refreshed twice in a row in the deployments' order.",
            "",
            "| dataset | calls (run 1 / run 2) | table | rows | re-run inserted | re-run changed "
            "| re-run disappeared |",
            "|---|---:|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"A re-run of a metadata snapshot {'inserts and changes nothing' if clean else '**changes rows**'} "
            "(`updated_at`, `collected_at` and the like are rewritten and not counted as changes). `api_usage` is a "
            "measurement: each run adds its own row (the key is the second it was taken, the use case and the timing).",
            "",
        ]
    )


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE.parent)]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    result = {
        "command": ".venv/bin/python -m bench.snapshots",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "datasets": asyncio.run(measure(args.host, args.port)),
    }
    print(render(result))
    if not args.no_write:
        from bench.flows import write_section

        RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        write_section(render(result), HEADING)
        print(f"wrote {RESULTS_JSON} and the {HEADING!r} section of bench/RESULTS.md")
