"""``make deploy`` (``python -m deployments.deploy``) against a real Prefect server, and prefect.yaml's contract.

The e2e test (``tests/e2e``) covers a pause surviving an unchanged redeploy on PostgreSQL; these cover the other
paths: targets added and removed, a deployment that drifted (updated, pause kept, Scheduled events backfilled),
leftover automations, and every refusal before a change.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.automations import DoNothing, EventTrigger, Posture
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.events.schemas.automations import AutomationCore
from prefect.events.schemas.events import ResourceSpecification

from deployments.alerts import FAILURE_EVENTS, PREFIX, alert_specs
from deployments.notify import WEBHOOK_BLOCK
from deployments.spec import load_project
from flows._registry import OTHER_FLOWS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
PROJECT = load_project(ROOT / "prefect.yaml")


def deploy(tmp_path: Path, **env: str | None) -> subprocess.CompletedProcess[str]:
    """Run the deploy as ``make deploy`` does, from a scratch directory (no .env), with ``env`` on top.

    The test harness's server runs no scheduler, so the deploy does not wait for recreated runs (the e2e test,
    on a full server, checks their Scheduled events).
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ALERT_", "NOTIFY_BLOCK"))}
    base["CCDATA_INGEST_HOME"] = str(ROOT)
    for key, value in env.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "deployments.deploy",
            "--prefect-file",
            str(ROOT / "prefect.yaml"),
            "--scheduler-wait-seconds",
            "0",
        ],
        env=base,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


async def server_state() -> dict[str, Any]:
    """What a refused deploy must not change."""
    async with get_client() as client:
        deployments = await client.read_deployments()
        automations = await client.read_automations()
        pools = await client.read_work_pools()
        blocks = await client.read_block_documents()
    return {
        "deployments": sorted((d.name, str(d.updated)) for d in deployments),
        "automations": sorted((a.name, a.model_dump_json(exclude={"id"})) for a in automations),
        "pools": sorted((p.name, str(p.updated)) for p in pools),
        "blocks": sorted((b.name or "", str(b.id)) for b in blocks),
    }


async def ours() -> list[Any]:
    async with get_client() as client:
        return [a for a in await client.read_automations() if a.name.startswith(f"{PREFIX}:")]


def test_prefect_yaml_schedules_have_slug_explicit_active_and_cancel_new() -> None:
    assert PROJECT.deployments
    for dep in PROJECT.deployments:
        assert dep.raw["concurrency_limit"]["collision_strategy"] == "CANCEL_NEW", dep.name
        assert dep.schedules, dep.name
        for schedule in dep.schedules:
            assert schedule.slug, dep.name
            assert isinstance(schedule.active, bool), dep.name
        assert dep.entrypoint_path is not None and (ROOT / dep.entrypoint_path).is_file(), dep.entrypoint


def test_every_scheduled_series_has_a_stale_alert_and_one_failure_alert_covers_every_deployment() -> None:
    specs = {s.name: s for s in asyncio.run(alert_specs(PROJECT))}
    feeders = [d for d in PROJECT.deployments if d.dataset not in OTHER_FLOWS]  # a check writes no data
    scheduled = {d.series for d in feeders if any(s.active is not False for s in d.schedules)}
    assert {n.removeprefix(f"{PREFIX}: stale ") for n in specs if "stale" in n} == scheduled
    assert len(scheduled) == len(feeders), "today every deployment that writes data feeds its own series"
    failed = specs[f"{PREFIX}: run failed"].trigger
    assert (
        failed.expect
        == set(FAILURE_EVENTS)
        == {
            "prefect.flow-run.Failed",
            "prefect.flow-run.Crashed",
            "prefect.flow-run.TimedOut",
        }
    )
    assert failed.posture == Posture.Reactive and failed.threshold == 1
    related = failed.match_related
    assert isinstance(related, ResourceSpecification)
    assert sorted(related.model_dump()["prefect.resource.name"]) == sorted(d.name for d in PROJECT.deployments)
    assert not any("partial-failure" in e for s in specs.values() for e in s.trigger.expect)
    for dep in feeders:
        expected = f"ccdata.dataset.{dep.dataset}" + (f".{dep.parameters['interval']}" if dep.interval else "")
        stale = specs[f"{PREFIX}: stale {dep.series}"].trigger
        assert isinstance(stale.match, ResourceSpecification)
        assert stale.match.model_dump() == {"prefect.resource.id": expected}
        assert stale.expect == {"ccdata.dataset.upserted"} and stale.posture == Posture.Proactive


@pytest.mark.parametrize(
    ("cron", "window"),
    [
        ("*/15 * * * *", timedelta(hours=1, minutes=30)),
        ("5-59/15 * * * *", timedelta(hours=1, minutes=30)),
        ("2 * * * *", timedelta(hours=3)),
        ("20 0 * * *", timedelta(hours=49)),
        ("0 6 * * 1-5", timedelta(days=6, hours=1)),  # weekdays: the weekend gap is 3 days
    ],
)
def test_freshness_window_is_two_longest_gaps_plus_an_hour(tmp_path: Path, cron: str, window: timedelta) -> None:
    entry = {
        "name": "x-1h",
        "entrypoint": "flows/futures_ohlcv.py:futures_ohlcv",
        "parameters": {"interval": "1h"},
        "schedules": [{"cron": cron, "timezone": "UTC", "slug": "s", "active": True}],
    }
    (tmp_path / "prefect.yaml").write_text(yaml.safe_dump({"deployments": [entry]}))
    specs = asyncio.run(alert_specs(load_project(tmp_path / "prefect.yaml")))
    stale = [s for s in specs if s.name == f"{PREFIX}: stale futures_ohlcv.1h"]
    assert len(stale) == 1
    assert stale[0].trigger.within == window


def test_a_paused_or_unscheduled_deployment_gets_no_stale_alert(tmp_path: Path) -> None:
    entries = [
        {"name": "a", "entrypoint": "flows/a.py:a", "schedules": [{"cron": "0 * * * *", "slug": "h", "active": False}]},
        {"name": "b", "entrypoint": "flows/b.py:b"},
    ]
    (tmp_path / "prefect.yaml").write_text(yaml.safe_dump({"deployments": entries}))
    names = [s.name for s in asyncio.run(alert_specs(load_project(tmp_path / "prefect.yaml")))]
    assert names == [f"{PREFIX}: run failed", f"{PREFIX}: run late"]


async def test_targets_come_from_settings_and_old_alerts_are_removed(prefect_server: str, tmp_path: Path) -> None:
    # An automation of the old design (one failure = two notifications) and a manual duplicate of a current one.
    legacy = EventTrigger(expect={"ccdata.dataset.partial-failure"}, posture=Posture.Reactive, threshold=1)
    async with get_client() as client:
        for name in (f"{PREFIX}: partial failure", f"{PREFIX}: run late", f"{PREFIX}: run late"):
            await client.create_automation(AutomationCore(name=name, trigger=legacy, actions=[DoNothing()]))

    out = ok(deploy(tmp_path, ALERT_WEBHOOK_URL="http://127.0.0.1:9/hook-secret-path"))
    assert "alert targets: webhook (ALERT_WEBHOOK_URL)" in out
    assert f"notification block custom-webhook/{WEBHOOK_BLOCK}: saved for webhook (ALERT_WEBHOOK_URL)" in out
    assert "hook-secret-path" not in out
    automations = await ours()
    names = [a.name for a in automations]
    assert f"{PREFIX}: partial failure" not in names
    assert len(names) == len(set(names)) == 2 + len(PROJECT.by_series())
    async with get_client() as client:
        block = await client.read_block_document_by_name(WEBHOOK_BLOCK, "custom-webhook", include_secrets=False)
        pool = await client.read_work_pool("ccdata-ingest")
    assert "hook-secret-path" not in str(block.data)
    assert pool.type == "process" and pool.base_job_template["variables"]["properties"]["env"]
    for automation in automations:
        assert [a.type for a in automation.actions] == ["send-notification"], automation.name
        assert automation.actions[0].block_document_id == block.id

    again = deploy(tmp_path)  # no target any more
    out = ok(again)
    assert "WARNING: no alert target is configured" in again.stderr
    assert "notify NOBODY" in again.stderr
    assert "deployments: all unchanged" in out
    assert f"notification block {WEBHOOK_BLOCK}: deleted" in out
    automations = await ours()
    assert len(automations) == 2 + len(PROJECT.by_series())
    assert all([a.type for a in automation.actions] == ["do-nothing"] for automation in automations)


async def test_a_drifted_deployment_is_updated_keeping_its_pause(prefect_server: str, tmp_path: Path) -> None:
    ok(deploy(tmp_path))
    quarter = next(d.name for d in PROJECT.deployments if d.interval == "1m")
    paused = next(d.name for d in PROJECT.deployments if d.interval == "1h")
    async with get_client() as client:
        found = await client.read_deployments(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[quarter, paused]))
        )
        for dep in found:
            await client.update_deployment(dep.id, DeploymentUpdate(description="edited in the UI"))
        target = next(d for d in found if d.name == paused)
        await client.update_deployment_schedule(target.id, target.schedules[0].id, active=False)
        await client.pause_deployment(target.id)

    out = ok(deploy(tmp_path))
    assert f"  {quarter}: update (description)" in out
    assert f"  {paused}: update (description)" in out
    assert all(f"  {d.name}: unchanged" in out for d in PROJECT.deployments if d.name not in (quarter, paused))
    assert "deployments: 0 created, 2 updated" in out

    async with get_client() as client:
        after = {d.name: d for d in await client.read_deployments()}
        await client.resume_deployment(after[paused].id)
    assert [s.active for s in after[paused].schedules] == [False]
    assert after[paused].paused is True
    assert after[quarter].description != "edited in the UI"
    assert [s.active for s in after[quarter].schedules] == [True]
    assert "deployments: all unchanged" in ok(deploy(tmp_path))


async def test_a_wrong_alert_target_fails_before_anything_changes(prefect_server: str, tmp_path: Path) -> None:
    ok(deploy(tmp_path))
    before = await server_state()
    cases = {
        "ALERT_SLACK_WEBHOOK_URL": ("https://example.com/not-slack", "ALERT_SLACK_WEBHOOK_URL: Value error, must look"),
        "ALERT_WEBHOOK_URL": ("ftp://example.com/x", "ALERT_WEBHOOK_URL: Value error, must be an http:// or https://"),
        "ALERT_NOTIFICATION_BLOCK": ("slack-webhook/nope", "ALERT_NOTIFICATION_BLOCK: no block slack-webhook/nope"),
    }
    for variable, (value, message) in cases.items():
        proc = deploy(tmp_path, **{variable: value})
        assert proc.returncode == 2, proc.stdout + proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("make deploy: ") and message in last, proc.stderr
        assert "Traceback" not in proc.stderr
        assert value not in proc.stderr or variable == "ALERT_NOTIFICATION_BLOCK"
    assert await server_state() == before


@pytest.mark.parametrize(
    ("home", "message"),
    [
        (None, "make deploy: CCDATA_INGEST_HOME is not set: export CCDATA_INGEST_HOME=<the directory holding"),
        ("relative/dir", "make deploy: CCDATA_INGEST_HOME=relative/dir must be an absolute path"),
        ("/nonexistent/ccdata", "make deploy: CCDATA_INGEST_HOME=/nonexistent/ccdata is not a directory on this host"),
        ("/tmp", "make deploy: CCDATA_INGEST_HOME=/tmp does not hold this project: /tmp/flows/"),
    ],
)
async def test_deploy_refuses_a_missing_or_wrong_ccdata_ingest_home(
    prefect_server: str, tmp_path: Path, home: str | None, message: str
) -> None:
    before = await server_state()
    proc = deploy(tmp_path, CCDATA_INGEST_HOME=home)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(message), proc.stderr
    assert "Traceback" not in proc.stderr
    assert await server_state() == before


def test_deploy_refuses_to_use_a_temporary_server(tmp_path: Path) -> None:
    proc = deploy(tmp_path, PREFECT_API_URL=None)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("make deploy: PREFECT_API_URL is not set")


def test_deploy_warns_when_the_servers_ui_settings_would_break_the_ui_and_the_alert_links(
    prefect_server: str, tmp_path: Path
) -> None:
    # The test server runs on a random port without PREFECT_UI_URL / PREFECT_UI_API_URL: both problems at once.
    done = deploy(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "!!! WARNING: the Prefect server's UI settings are off:" in done.stderr
    assert "the server has no PREFECT_UI_URL: the alerts' links to a run read 'None'" in done.stderr
    assert "Set PREFECT_UI_API_URL=" in done.stderr


async def test_an_automation_the_operator_disabled_stays_disabled_through_a_redeploy(
    prefect_server: str, tmp_path: Path
) -> None:
    ok(deploy(tmp_path))
    automations = {a.name: a for a in await ours()}
    stale = next(name for name in automations if ": stale " in name)
    async with get_client() as client:
        await client.pause_automation(automations[stale].id)  # the runbook's maintenance step

    out = ok(deploy(tmp_path))
    assert f"left disabled as the operator set them: {stale}" in out
    after = {a.name: a for a in await ours()}
    assert after[stale].enabled is False  # not re-enabled
    assert all(a.enabled for name, a in after.items() if name != stale)
    assert all(a.description.startswith("Notifies ") for a in after.values())  # not "A custom trigger" alone
    async with get_client() as client:
        await client.resume_automation(after[stale].id)
    assert "left disabled" not in ok(deploy(tmp_path))
