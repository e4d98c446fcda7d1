"""Notification targets from the settings, as Prefect notification blocks the alert automations send through.

``ALERT_WEBHOOK_URL`` becomes a Custom Webhook block (the URL is stored in the block's secrets, not in its visible
fields), ``ALERT_SLACK_WEBHOOK_URL`` a Slack Webhook block, and ``ALERT_NOTIFICATION_BLOCK`` names a block that
already exists (made in the UI, e.g. PagerDuty). Blocks the deploy manages carry the ``ccdata-ingest-`` prefix and
are saved with ``overwrite=True`` (same document id, so the automations do not change when a URL does).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from prefect.blocks.core import Block
from prefect.blocks.notifications import CustomWebhookNotificationBlock, SlackWebhook
from prefect.client.orchestration import PrefectClient
from prefect.exceptions import ObjectNotFound

from ingestion_core.errors import ConfigurationError
from ingestion_core.settings import NotificationSettings

PREFIX = "ccdata-ingest"
WEBHOOK_BLOCK = f"{PREFIX}-webhook"
SLACK_BLOCK = f"{PREFIX}-slack"
MANAGED = {
    WEBHOOK_BLOCK: CustomWebhookNotificationBlock.get_block_type_slug(),
    SLACK_BLOCK: SlackWebhook.get_block_type_slug(),
}


@dataclass(frozen=True, slots=True)
class Target:
    """One place alerts go to.

    Attributes:
        label: what the deploy prints (never the secret URL).
        block_type: the block type slug.
        block_name: the block document name.
        block: the block to save, or None when it already exists and is only referenced.
    """

    label: str
    block_type: str
    block_name: str
    block: Block | None


def targets_from_settings(settings: NotificationSettings) -> list[Target]:
    """The notification targets the settings ask for (possibly none)."""
    targets: list[Target] = []
    if settings.webhook_url is not None:
        block = CustomWebhookNotificationBlock(
            name=PREFIX,
            url="{{url}}",
            method="POST",
            json_data={"subject": "{{subject}}", "body": "{{body}}", "name": "{{name}}"},
            secrets={"url": settings.webhook_url.get_secret_value()},
        )
        targets.append(Target("webhook (ALERT_WEBHOOK_URL)", MANAGED[WEBHOOK_BLOCK], WEBHOOK_BLOCK, block))
    if settings.slack_webhook_url is not None:
        slack = SlackWebhook(url=settings.slack_webhook_url)
        targets.append(Target("Slack (ALERT_SLACK_WEBHOOK_URL)", MANAGED[SLACK_BLOCK], SLACK_BLOCK, slack))
    if settings.notification_block is not None:
        block_type, _, name = settings.notification_block.partition("/")
        targets.append(
            Target(f"block {settings.notification_block} (ALERT_NOTIFICATION_BLOCK)", block_type, name, None)
        )
    return targets


async def check_targets(client: PrefectClient, targets: list[Target]) -> None:
    """Fail before any change when a referenced block does not exist or is not a notification block.

    Raises:
        ConfigurationError: one line naming the variable to fix.
    """
    for target in targets:
        if target.block is not None:
            continue
        try:
            document = await client.read_block_document_by_name(
                target.block_name, target.block_type, include_secrets=False
            )
        except ObjectNotFound:
            raise ConfigurationError(
                f"ALERT_NOTIFICATION_BLOCK: no block {target.block_type}/{target.block_name} on the Prefect server"
            ) from None
        capabilities = document.block_schema.capabilities if document.block_schema else []
        if "notify" not in capabilities:
            raise ConfigurationError(
                f"ALERT_NOTIFICATION_BLOCK: {target.block_type}/{target.block_name} is not a notification block"
            )


async def save_targets(client: PrefectClient, targets: list[Target]) -> dict[str, UUID]:
    """Save the managed blocks (idempotent) and resolve every target to its block document id.

    Returns:
        Block document id per target label.
    """
    ids: dict[str, UUID] = {}
    for target in targets:
        if target.block is not None:
            ids[target.label] = await target.block.asave(target.block_name, overwrite=True, client=client)
        else:
            document = await client.read_block_document_by_name(
                target.block_name, target.block_type, include_secrets=False
            )
            ids[target.label] = document.id
    return ids


async def delete_unused_managed_blocks(client: PrefectClient, targets: list[Target]) -> list[str]:
    """Delete managed blocks whose setting was removed (they hold a URL nobody should still use).

    Returns:
        The names of the deleted blocks.
    """
    wanted = {t.block_name for t in targets if t.block is not None}
    deleted: list[str] = []
    for name, block_type in MANAGED.items():
        if name in wanted:
            continue
        try:
            document = await client.read_block_document_by_name(name, block_type, include_secrets=False)
        except ObjectNotFound:
            continue
        await client.delete_block_document(document.id)
        deleted.append(name)
    return deleted
