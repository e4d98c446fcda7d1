"""The process work pool the deployments run on, with Prefect's process base job template.

``WorkPoolCreate(type="process")`` without a template makes a pool whose template is ``{}``: its runs ignore job
variables such as ``env`` and the pool shows no settings in the UI. The pool is created with (or repaired to) the
template the process worker itself publishes; a template someone customised is left alone.
"""

from __future__ import annotations

from typing import Any

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
from prefect.exceptions import ObjectNotFound
from prefect.workers.process import ProcessWorker


def process_job_template() -> dict[str, Any]:
    """The base job template of Prefect's process worker."""
    return ProcessWorker.get_default_base_job_template()


async def ensure_work_pool(client: PrefectClient, name: str, concurrency_limit: int | None) -> str:
    """Create the process work pool, or give an existing one the process template if its template is empty.

    Args:
        client: an open Prefect client.
        name: the pool name.
        concurrency_limit: flow runs at once on the pool when it is created (an existing pool keeps its own).

    Returns:
        ``created``, ``template repaired`` or ``exists``.

    Raises:
        ValueError: a pool of that name exists with another type.
    """
    try:
        pool = await client.read_work_pool(name)
    except ObjectNotFound:
        await client.create_work_pool(
            WorkPoolCreate(
                name=name,
                type=ProcessWorker.type,
                base_job_template=process_job_template(),
                concurrency_limit=concurrency_limit,
            )
        )
        return "created"
    if pool.type != ProcessWorker.type:
        raise ValueError(f"work pool {name!r} exists with type {pool.type!r}, not {ProcessWorker.type!r}")
    if not pool.base_job_template:
        await client.update_work_pool(name, WorkPoolUpdate(base_job_template=process_job_template()))
        return "template repaired"
    return "exists"
