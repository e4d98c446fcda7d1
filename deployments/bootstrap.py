"""Create or update the work pool and the alerting automations on a Prefect server. Safe to run any number of times.

``python -m deployments.bootstrap --notify-block slack-webhook/ops-alerts`` (block type slug / block name). The
Prefect CLI's ``automation create`` is not idempotent (two runs make two copies), so automations are upserted by name
here instead (docs/prefect-notes.md A7).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from prefect.automations import Automation
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from deployments.alerts import PREFIX, alert_specs, build_automation

POOL = "ccdata-ingest"


async def ensure_work_pool(name: str = POOL, concurrency_limit: int | None = 4) -> bool:
    """Create the process work pool if it is missing. Returns True when it was created."""
    async with get_client() as client:
        try:
            await client.create_work_pool(
                WorkPoolCreate(name=name, type="process", concurrency_limit=concurrency_limit)
            )
        except ObjectAlreadyExists:
            return False
        return True


async def ensure_automations(notify_block: str) -> tuple[int, int]:
    """Create missing automations and update existing ones (matched by name). Returns (created, updated)."""
    block_type, _, block_name = notify_block.partition("/")
    if not block_name:
        raise SystemExit(f"--notify-block must be TYPE_SLUG/NAME, e.g. slack-webhook/ops-alerts, not {notify_block!r}")
    async with get_client() as client:
        try:
            block = await client.read_block_document_by_name(name=block_name, block_type_slug=block_type)
        except ObjectNotFound:
            raise SystemExit(f"notification block {notify_block!r} not found: create it in the UI first") from None
        existing = {a.name: a for a in await client.read_automations() if a.name.startswith(PREFIX)}
    created = updated = 0
    for spec in alert_specs():
        wanted = build_automation(spec, block.id)
        current = existing.get(spec.name)
        if current is None:
            await wanted.acreate()
            created += 1
        else:
            merged = Automation(id=current.id, **wanted.model_dump(exclude={"id"}))
            await merged.aupdate()
            updated += 1
    return created, updated


async def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--notify-block", help="notification block as TYPE_SLUG/NAME; omit to skip automations")
    parser.add_argument("--pool-concurrency", type=int, default=4, help="flow runs at once on the work pool")
    args = parser.parse_args(argv)
    made = await ensure_work_pool(concurrency_limit=args.pool_concurrency)
    print(f"work pool {POOL}: {'created' if made else 'exists'}")
    if args.notify_block:
        created, updated = await ensure_automations(args.notify_block)
        print(f"automations: {created} created, {updated} updated")
    else:
        print("automations: skipped (no --notify-block)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
