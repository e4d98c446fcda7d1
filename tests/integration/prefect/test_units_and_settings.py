"""The systemd unit of the worker, and the alert-target settings (no server needed)."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest

from deployments.notify import SLACK_BLOCK, WEBHOOK_BLOCK, targets_from_settings
from deployments.worker import parse_args
from ingestion_core.errors import ConfigurationError
from ingestion_core.redaction import redact
from ingestion_core.settings import load_settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
UNIT = ROOT / "deployments" / "ccdata-ingest-worker.service"
SLACK = "https://hooks.slack.com/services/T0AAA/B0BBB/abcDEF123"


def _service() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser["Service"]


def _seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|min)?", value.strip())
    assert match, value
    return float(match.group(1)) * (60 if match.group(2) == "min" else 1)


def test_the_unit_drains_the_worker_instead_of_killing_its_runs() -> None:
    service = _service()
    command = shlex.split(service["ExecStart"])
    assert command[1:3] == ["-m", "deployments.worker"]
    args = parse_args(command[3:])
    assert args.pool == "ccdata-ingest"
    assert service["KillMode"] == "mixed", "control-group would SIGTERM the flow processes along with the worker"
    assert service["KillSignal"] == "SIGTERM"
    assert _seconds(service["TimeoutStopSec"]) >= args.grace_seconds + args.cancel_timeout_seconds + 10
    assert service["Restart"] == "on-failure"


def test_no_alert_target_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ALERT_WEBHOOK_URL", "ALERT_SLACK_WEBHOOK_URL", "ALERT_NOTIFICATION_BLOCK", "NOTIFY_BLOCK"):
        monkeypatch.delenv(name, raising=False)
    assert targets_from_settings(load_settings(env_file=None).notifications) == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ALERT_WEBHOOK_URL", "ftp://x.example/hook", "ALERT_WEBHOOK_URL: Value error, must be an http:// or https://"),
        ("ALERT_WEBHOOK_URL", "https:///no-host", "ALERT_WEBHOOK_URL: Value error, must be an http:// or https://"),
        ("ALERT_SLACK_WEBHOOK_URL", "https://example.com/services/a/b/c", "ALERT_SLACK_WEBHOOK_URL: Value error"),
        ("ALERT_NOTIFICATION_BLOCK", "just-a-name", "ALERT_NOTIFICATION_BLOCK: Value error, must be TYPE_SLUG/NAME"),
        ("NOTIFY_BLOCK", "slack webhook/x", "ALERT_NOTIFICATION_BLOCK: Value error, must be TYPE_SLUG/NAME"),
    ],
)
def test_a_target_that_cannot_work_is_a_one_line_configuration_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env_file=None)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert value not in text, "the value (possibly a secret URL) is not echoed"


def test_targets_become_blocks_and_the_urls_stay_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = "https://alerts.example.com/hook/s3cr3t-token"
    monkeypatch.setenv("ALERT_WEBHOOK_URL", hook)
    monkeypatch.setenv("ALERT_SLACK_WEBHOOK_URL", SLACK)
    monkeypatch.setenv("ALERT_NOTIFICATION_BLOCK", "pager-duty-webhook/ops")
    settings = load_settings(env_file=None)
    targets = targets_from_settings(settings.notifications)
    assert [(t.block_type, t.block_name) for t in targets] == [
        ("custom-webhook", WEBHOOK_BLOCK),
        ("slack-webhook", SLACK_BLOCK),
        ("pager-duty-webhook", "ops"),
    ]
    assert targets[2].block is None, "an existing block is referenced, not saved"
    webhook = targets[0].block
    assert webhook is not None
    visible = webhook.model_dump(exclude={"secrets"})
    assert "s3cr3t" not in str(visible) and visible["url"] == "{{url}}"
    assert "s3cr3t" not in repr(settings)
    assert "s3cr3t" not in redact(f"posting to {hook}")
    assert all("s3cr3t" not in t.label and "hooks.slack.com" not in t.label for t in targets)
