"""Time-series deployments a deploy holds paused until the snapshot deployments filling their tables have run.

A time-series run selects its series from tables a snapshot flow fills (``cc_instruments_futures`` from
``futures_instruments``...): before that flow has ever run, every time-series run fails with "... is empty: run the
... flow first", and alerts. So ``make deploy`` (``deployments/upstream.py``) pauses each time-series deployment
reading an empty table, records it here with the snapshot deployments it waits for, and starts one run of each.
When a snapshot run completes, its flow calls :func:`release`; a held deployment that waits for no deployment any
more is resumed. A deploy releases too (a release the flow missed is made up there).

The record is one Prefect Variable, :data:`VARIABLE`: ``{held deployment id: {"name": "flow/deployment",
"upstream": {deployment id: "flow/deployment", ...}}}`` with only the upstream deployments still to complete. Only a
deployment this mechanism paused is resumed by it; one the operator paused stays paused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prefect.client.orchestration import PrefectClient
from prefect.exceptions import ObjectNotFound
from prefect.variables import Variable

#: The Prefect Variable holding the deployments held for their upstream.
VARIABLE = "ccdata_ingest_awaiting_upstream"

Held = dict[str, dict[str, Any]]


async def held() -> Held:
    """The deployments held now (an empty mapping when none)."""
    value: Any = await Variable.aget(VARIABLE, default=None)
    return dict(value) if isinstance(value, Mapping) else {}


async def hold(client: PrefectClient, waiting: Mapping[str, tuple[str, Mapping[str, str]]]) -> None:
    """Pause each deployment of ``waiting`` (id -> (name, {upstream id: name})) and record why.

    Args:
        client: the Prefect client.
        waiting: the deployments to hold, with the upstream deployments each waits for.
    """
    current = await held()
    for deployment_id, (name, upstream) in waiting.items():
        await client.pause_deployment(deployment_id)
        current[deployment_id] = {"name": name, "upstream": dict(upstream)}
    await Variable.aset(VARIABLE, current, overwrite=True)


async def release(client: PrefectClient, completed: Iterable[str]) -> list[str]:
    """Strike the ``completed`` upstream deployment ids; resume each held deployment that waits for none any more.

    Returns:
        The names of the deployments resumed.
    """
    current = await held()
    if not current:
        return []
    done = set(completed)
    remaining: Held = {}
    resumed: list[str] = []
    for deployment_id, entry in current.items():
        upstream = {k: v for k, v in dict(entry.get("upstream", {})).items() if k not in done}
        if upstream:
            remaining[deployment_id] = {**entry, "upstream": upstream}
            continue
        try:
            deployment = await client.read_deployment(deployment_id)
        except ObjectNotFound:
            continue  # deleted meanwhile: nothing to resume
        if deployment.paused:
            await client.resume_deployment(deployment_id)
            resumed.append(str(entry.get("name", deployment_id)))
    if remaining != current:
        await Variable.aset(VARIABLE, remaining, overwrite=True)
    return resumed
