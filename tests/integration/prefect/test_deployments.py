"""prefect.yaml and the bootstrap against a real Prefect server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def test_every_schedule_has_slug_and_explicit_active() -> None:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    deployments = config["deployments"]
    assert deployments
    for dep in deployments:
        assert dep["concurrency_limit"]["collision_strategy"] == "CANCEL_NEW", dep["name"]
        assert dep["schedules"], dep["name"]
        for schedule in dep["schedules"]:
            assert schedule.get("slug"), dep["name"]
            assert isinstance(schedule.get("active"), bool), dep["name"]
        module, _, _attr = dep["entrypoint"].partition(":")
        assert (ROOT / module).exists(), dep["entrypoint"]


def test_bootstrap_is_idempotent_and_deploy_all_registers_every_deployment(prefect_server: str) -> None:
    from prefect.blocks.notifications import SlackWebhook
    from prefect.client.orchestration import get_client

    from deployments.alerts import PREFIX, alert_specs
    from deployments.bootstrap import ensure_automations, ensure_work_pool

    SlackWebhook(url="https://hooks.example.invalid/T000/B000/XXX").save("ops-alerts", overwrite=True)

    async def bootstrap_twice() -> tuple[bool, bool, tuple[int, int], tuple[int, int], int]:
        made1 = await ensure_work_pool()
        made2 = await ensure_work_pool()
        first = await ensure_automations("slack-webhook/ops-alerts")
        second = await ensure_automations("slack-webhook/ops-alerts")
        async with get_client() as client:
            ours = [a for a in await client.read_automations() if a.name.startswith(PREFIX)]
        return made1, made2, first, second, len(ours)

    made1, made2, first, second, count = asyncio.run(bootstrap_twice())
    expected = len(alert_specs())
    assert (made1, made2) == (True, False)
    assert first == (expected, 0)
    assert second == (0, expected)
    assert count == expected

    env = {**os.environ, "PREFECT_API_URL": prefect_server, "CCDATA_INGEST_HOME": str(ROOT)}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "prefect"), "--no-prompt", "deploy", "--all"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    async def read_deployments() -> dict[str, list[tuple[str | None, bool]]]:
        async with get_client() as client:
            deps = await client.read_deployments()
            return {d.name: [(s.slug, s.active) for s in d.schedules] for d in deps}

    deployed = asyncio.run(read_deployments())
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    for dep in config["deployments"]:
        assert dep["name"] in deployed, dep["name"]
        assert sorted(deployed[dep["name"]]) == sorted((s["slug"], s["active"]) for s in dep["schedules"])
