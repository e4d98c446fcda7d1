"""Time-series deployments a deploy holds paused until the tables they read have rows.

A time-series run selects its series from tables a snapshot flow fills (``cc_instruments_futures`` from
``futures_instruments``...): before that flow has ever run, every time-series run fails with "... is empty: run the
... flow first", and alerts. So ``make deploy`` (``deployments/upstream.py``) pauses each time-series deployment
reading an empty table, records it here with the tables it waits for, and starts the snapshot deployments that
fill them. When a snapshot run has written its rows, its flow calls :func:`release`, which reads which of the
waited-for tables are still empty and resumes every held deployment waiting for none any more. A deploy releases
too. Each release decides from the tables themselves, not from who called it, so snapshot runs finishing at the
same moment cannot strand a deployment (the last writer sees every table filled).

:func:`release_held_task` is the snapshot flows' way to call :func:`release` (a task: the flow does no I/O itself).

The record is one Prefect Variable, :data:`VARIABLE`: ``{held deployment id: {"name": "flow/deployment",
"tables": [schema.table, ...]}}``, read and written under a global concurrency limit of 1 (:data:`LOCK`, created by
the deploy), so two releases never overwrite each other's changes (a stale entry left behind could later resume
a deployment the operator paused). Only a deployment this mechanism paused is resumed by it; once resumed, its
entry is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from prefect import task
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.asyncio import concurrency
from prefect.exceptions import ObjectNotFound, PrefectException
from prefect.variables import Variable

from ingestion_core.errors import IngestError
from ingestion_core.pipeline.upstream import empty_tables
from ingestion_core.settings import Settings

#: The Prefect Variable holding the deployments held for their upstream.
VARIABLE = "ccdata_ingest_awaiting_upstream"
#: The global concurrency limit (of 1) every change of the record holds.
LOCK = "ccdata-ingest-awaiting-upstream"
LOCK_TIMEOUT_SECONDS = 60.0

Held = dict[str, dict[str, Any]]


async def held() -> Held:
    """The deployments held now (an empty mapping when none)."""
    value: Any = await Variable.aget(VARIABLE, default=None)
    return dict(value) if isinstance(value, Mapping) else {}


async def ensure_lock(client: PrefectClient) -> None:
    """Create the record's lock (a global concurrency limit of 1) when it does not exist."""
    try:
        await client.read_global_concurrency_limit_by_name(LOCK)
    except ObjectNotFound:
        await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=LOCK, limit=1))


@asynccontextmanager
async def _locked() -> AsyncIterator[None]:
    async with concurrency(LOCK, occupy=1, timeout_seconds=LOCK_TIMEOUT_SECONDS, strict=True):
        yield


async def hold(client: PrefectClient, waiting: Mapping[str, tuple[str, Sequence[str]]]) -> None:
    """Pause each deployment of ``waiting`` (id -> (name, the empty tables it reads)) and record it.

    Args:
        client: the Prefect client.
        waiting: the deployments to hold, with the tables each waits for.
    """
    await ensure_lock(client)
    async with _locked():
        current = await held()
        for deployment_id, (name, tables) in waiting.items():
            await client.pause_deployment(deployment_id)
            current[deployment_id] = {"name": name, "tables": sorted(tables)}
        await Variable.aset(VARIABLE, current, overwrite=True)


async def release(client: PrefectClient, empty: Callable[[Sequence[str]], Awaitable[set[str]]]) -> list[str]:
    """Resume each held deployment none of whose tables is empty any more.

    Args:
        client: the Prefect client.
        empty: which of the given tables are still empty (``ingestion_core.pipeline.upstream.empty_tables``).

    Returns:
        The names of the deployments resumed.
    """
    if not await held():
        return []  # nothing held: no lock taken (every snapshot run ends here)
    await ensure_lock(client)
    async with _locked():
        current = await held()
        waited = sorted({t for entry in current.values() for t in entry.get("tables", [])})
        still = await empty(waited)
        remaining: Held = {}
        resumed: list[str] = []
        for deployment_id, entry in current.items():
            if set(entry.get("tables", [])) & still:
                remaining[deployment_id] = entry
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


@task(name="release-held-deployments")
def release_held_task(settings: Settings) -> list[str] | str:
    """Resume the held deployments whose tables now have rows; best effort: returns why it could not, never raises.

    Returns:
        The names of the deployments resumed, or the reason the release failed (the next deploy releases them).
    """

    async def release_now() -> list[str]:
        async with get_client() as client:
            return await release(client, lambda tables: empty_tables(settings.database, tables))

    try:
        return asyncio.run(release_now())
    except (httpx.HTTPError, PrefectException, IngestError) as exc:
        return str(exc)
