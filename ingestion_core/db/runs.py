"""Print the newest rows of the run log (``market.ingest_run_log``): what each flow run did and how fast.

    python -m ingestion_core.db.runs                       # the last 20 runs
    python -m ingestion_core.db.runs --dataset futures_ohlcv --limit 50
    python -m ingestion_core.db.runs --json                # one JSON object per line, every column

Reads the database of the current settings (``DATABASE_URL`` or ``DB_*``; the embedded SQLite by default).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from ingestion_core.errors import IngestError

COLUMNS = (
    "started_at",
    "dataset",
    "interval_name",
    "state",
    "series",
    "calls",
    "rate_limited",
    "waited_seconds",
    "latency_p95",
    "rows_inserted",
    "rows_changed",
    "quarantined",
    "failed_series",
    "seconds",
)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: exit 0, or 1 with one ``error:`` line for a configuration or database error."""
    parser = argparse.ArgumentParser(prog="python -m ingestion_core.db.runs", description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=20, help="how many runs (newest first; default 20)")
    parser.add_argument("--dataset", default=None, help="only this dataset's runs")
    parser.add_argument("--json", action="store_true", help="one JSON object per line, every column")
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.exit(2, "error: --limit must be at least 1\n")
    try:
        from ingestion_core.pipeline.runlog import last_runs
        from ingestion_core.settings import load_settings

        frame = asyncio.run(last_runs(load_settings().database, args.limit, args.dataset))
    except IngestError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    rows = frame.to_dicts()
    if args.json:
        for row in rows:
            print(json.dumps(row, default=str))
        return 0
    from ingestion_core.report import render_table

    for row in rows:
        row["seconds"] = round((row["ended_at"] - row["started_at"]).total_seconds())
    print(render_table(rows, COLUMNS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
