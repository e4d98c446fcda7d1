"""A first ``make deploy`` on an empty warehouse, with a worker running: nobody is paged.

Before, the 1m/1h runs that fell due right after the deploy, before the daily discovery, failed with
"cc_instruments_futures is empty" and alerted. Now the deploy holds every time-series deployment whose upstream
tables are empty, starts the snapshot deployments that fill them, and their flows resume the held deployments.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from deployments.upstream import upstream_specs
from tasks.awaiting import VARIABLE
from tests.e2e.conftest import Stack, operator_stack
from tests.e2e.runs import create_run, deployment, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEFAULT_QUEUE = "default"  # where the deploy's own upstream runs go, as scheduled runs do


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with operator_stack(tmp_path_factory.mktemp("first"), seeded=False, queue=DEFAULT_QUEUE, failing_run=False) as s:
        yield s


async def test_a_first_deploy_on_an_empty_warehouse_pages_nobody(fresh: Stack) -> None:
    upstream = upstream_specs(fresh.project.deployments)
    waiting = sorted(upstream)
    snapshots = sorted({u.name for ups in upstream.values() for u in ups})
    out = fresh.deploy_output
    held_lines = [line for line in out.splitlines() if line.startswith("held (paused) until ")]
    for name in waiting:
        assert any(f"/{name} (filled by " in line for line in held_lines), out
    for name in snapshots:
        assert f"/{name}: started run" in out, out
    t0 = time.monotonic()
    async with fresh.client() as client:
        while True:  # the worker runs the snapshots; each flow resumes the deployments waiting for it
            paused = [name for name in waiting if (await deployment(client, name)).paused]
            if not paused or time.monotonic() - t0 > 300:
                break
            await asyncio.sleep(1)
        assert not paused, f"still held after {time.monotonic() - t0:.0f} s: {paused}"
        released = time.monotonic() - t0
        assert (await client.read_variable_by_name(VARIABLE)).value == {}  # type: ignore[union-attr]
        # The runs the schedules now make can select their series: one of each interval, as the scheduler would.
        finished = []
        for interval in ("1m", "1h", "1d"):
            spec = fresh.series_deployment(interval)
            run_id = await create_run(client, spec.name, DEFAULT_QUEUE, {"markets": ["binance"]})
            run = await wait_until(client, run_id, {"Completed"}, seconds=180)
            assert run.state is not None and run.state.name == "Completed", (spec.name, run.state)
            finished.append(spec.name)
    await asyncio.sleep(10)  # a failure or Late alert of any of these runs would have arrived by now
    alerts = fresh.receiver.all()
    assert alerts == [], [a.text() for a in alerts]
    print(
        f"\nE2E first deploy on an empty warehouse: {len(waiting)} time-series deployments held, "
        f"{len(snapshots)} snapshot runs started by the deploy; all resumed {released:.0f} s after the deploy; "
        f"{', '.join(finished)} then Completed; alerts sent: {len(alerts)}",
        flush=True,
    )
