"""One S3-like core run (10 perpetuals x N days of 1m, no rate limit, warm simulator) of any checkout, for A/B runs.

    .venv/bin/python bench/core_ab.py CHECKOUT [DAYS]

Runs ``CHECKOUT``'s own ``bench.flows.run_core_child`` (its plan_run + run_group in 4 threads, no Prefect) in this
process against a simulator and a throw-away MariaDB database at 127.0.0.1:3306, after warming the simulator's
response cache with every planned window, and prints one JSON line: run seconds, rows, client / MariaDB CPU seconds
and peak RSS. Alternate two checkouts (``git worktree add BASE <commit>``, BASE any directory) on one machine to
compare code, not machines: bench/RESULTS.md, "Client CPU before and after issue 18".
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid

DAY, MINUTE = 86_400, 60


def main() -> None:
    """Command-line entry point."""
    root = os.path.abspath(sys.argv[1])
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    sys.path.insert(0, root)
    os.chdir(root)
    from bench import flows as bf
    from ingestion_core.sim import SimulatorProcess

    end = bf.floor_to(int(time.time()), DAY) - DAY - MINUTE
    start = end - (days * 1440 - 1) * MINUTE
    config = bf.sim_config(markets=2, per_market=5, anchor=start - 3600, rate=None, cache_bytes=2 * 2**30)
    with SimulatorProcess(config) as sim:
        asyncio.run(bf.warm_cache(sim.base_url, config, int(time.time()), [(start, end)]))
        job = {
            "name": "core-ab", "rate": None, "interval": "1m", "start": start, "end": end, "base_url": sim.base_url,
            "sim_pid": bf.sim_pid(sim), "verify": [start, end], "db": f"bench_ab_{uuid.uuid4().hex[:8]}",
            "db_host": "127.0.0.1", "db_port": 3306, "server_pid": 0,
        }  # fmt: skip
        asyncio.run(bf.create_database(job))
        bf.child_environment(job)
        try:
            result = bf.run_core_child(job, time.time())
        finally:
            asyncio.run(bf.drop_database(job))
    rows = result["rows_inserted"]
    print(
        json.dumps(
            {
                "checkout": root,
                "days": days,
                "rows": rows,
                "stored": result["stored_rows_in_range"],
                "run_s": result["run_seconds"],
                "client_cpu_s": result["cpu"]["client_cpu_s"],
                "client_us_per_row": round(result["cpu"]["client_cpu_s"] / rows * 1e6, 1),
                "mariadb_cpu_s": result["cpu"]["mariadb_cpu_s"],
                "peak_rss_mb": result["peak_rss_mb"],
            }
        )
    )


if __name__ == "__main__":
    main()
