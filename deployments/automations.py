"""Make the server's ccdata-ingest automations equal the wanted ones, matched by name.

The CLI's ``prefect automation create`` is not idempotent (two runs make two copies, docs/prefect-facts.md A7), so
automations are reconciled here: missing ones are created, differing ones updated, identical ones left alone (an
update restarts a proactive trigger's window, so a redeploy must not touch an unchanged stale-data alert), and ones
with our name prefix that are no longer wanted (a removed series, the old partial-failure alert) are deleted.

Whether an automation is enabled is the operator's choice, as a paused schedule is: one disabled in the UI (a stale
alert during maintenance) stays disabled through a redeploy, and its state is not a difference to update.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from prefect.client.orchestration import PrefectClient
from prefect.events.schemas.automations import Automation, AutomationCore

from deployments.alerts import PREFIX


@dataclass(slots=True)
class AutomationChanges:
    """What a reconciliation did, by automation name."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the deploy output (and the ones an operator disabled, left so)."""
        line = (
            f"automations: {len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.deleted)} deleted"
        )
        if self.disabled:
            line += f"; left disabled as the operator set them: {', '.join(self.disabled)}"
        return line


def _canonical(value: Any) -> Any:
    # Sets (expect, match lists) come back from the server as lists in any order.
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _core(automation: AutomationCore) -> AutomationCore:
    # Only the fields we define are "set": the update endpoint rejects others (e.g. owner_resource).
    return AutomationCore(
        name=automation.name,
        description=automation.description,
        enabled=automation.enabled,
        trigger=automation.trigger,
        actions=automation.actions,
    )


def _comparable(automation: AutomationCore) -> Any:
    values = _core(automation).model_dump(mode="json")
    values.pop("enabled")  # the operator's choice, not ours
    return _canonical(values)


async def reconcile_automations(client: PrefectClient, wanted: Sequence[AutomationCore]) -> AutomationChanges:
    """Create, update or delete the server's automations whose name starts with the project prefix.

    Args:
        client: an open Prefect client.
        wanted: the automations that should exist (names must be unique and start with the prefix).

    Returns:
        What changed, by name.
    """
    changes = AutomationChanges()
    existing: dict[str, list[Automation]] = {}
    for found in await client.read_automations():
        if found.name.startswith(f"{PREFIX}:"):
            existing.setdefault(found.name, []).append(found)
    for automation in wanted:
        current = existing.pop(automation.name, [])
        # Copies made by earlier non-idempotent tools: keep one, delete the rest.
        for duplicate in current[1:]:
            await client.delete_automation(duplicate.id)
            changes.deleted.append(duplicate.name)
        if current and not current[0].enabled:
            changes.disabled.append(automation.name)
        if not current:
            await client.create_automation(_core(automation))
            changes.created.append(automation.name)
        elif _comparable(current[0]) != _comparable(automation):
            kept = automation.model_copy(update={"enabled": current[0].enabled})
            await client.update_automation(current[0].id, _core(kept))
            changes.updated.append(automation.name)
        else:
            changes.unchanged.append(automation.name)
    for leftovers in existing.values():
        for unwanted in leftovers:
            await client.delete_automation(unwanted.id)
            changes.deleted.append(unwanted.name)
    return changes
