"""The ``asset_coin_uid_map`` flow (its module, ``flows/asset_coin_uid_map.py``, stays light for ``--help``).

Map every asset of ``cc_assets`` to a coin of the coin registry (``COINS_TABLE``, default ``production.coins``) and
write ``cc_asset_coin_uid_map``: the legacy ``asset_to_coin_uid_mapper`` cron job as a flow (docs/migration.md).
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State

from flows._common import begin_run, emit_run_events, fail_run, log_run
from ingestion_core.coin_uid import DATASET, CoinMapOutcome, CoinMapParameters
from ingestion_core.errors import IngestError
from tasks.coin_uid_map import coin_uid_map_task


@flow(name="asset-coin-uid-map", retries=1, retry_delay_seconds=60, validate_parameters=False)
def asset_coin_uid_map(fuzzy_ratio: float = 0.85) -> CoinMapOutcome | State[Any]:
    """Map every CCData asset to a coin of the coin registry (COINS_TABLE) into cc_asset_coin_uid_map.

    Args:
        fuzzy_ratio: Least name similarity (difflib ratio, 0.5-1) of a fuzzy name match; the legacy mapper's 0.85.
    """
    opened = begin_run(CoinMapParameters, {"fuzzy_ratio": fuzzy_ratio})
    if isinstance(opened, State):
        return opened
    logger, started, settings, parameters = opened
    state = coin_uid_map_task(settings, parameters.fuzzy_ratio, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, IngestError):
        log_run(settings, logger, dataset=DATASET, interval=None, started_at=started, ok=False, figures={},
                failure=str(result))  # fmt: skip
        return fail_run(result, logger)
    if not isinstance(result, CoinMapOutcome):
        raise TypeError(f"map-assets-to-coins returned {type(result).__name__}")  # a bug: let Prefect show it
    create_table_artifact(table=result.rows(), key="asset-coin-uid-map-summary", description=result.headline())
    resource = {"prefect.resource.id": f"ccdata.dataset.{DATASET}"}
    emit_run_events(resource, result.metrics(), ok=True, wrote=bool(result.inserted or result.changed))
    logger.info("%s", result.headline())
    log_run(settings, logger, dataset=DATASET, interval=None, started_at=started, ok=True, figures=result.metrics())
    return result
