"""The ``validate_shadow`` flow (its module, ``flows/validate_shadow.py``, stays light for ``--help``).

Validate a shadow run: compare every legacy table with the shadow schema and publish the report.

During the parallel run every deployment writes into ``TARGET_SCHEMA`` (e.g. ``market_shadow``) beside the legacy
``market`` tables; this flow compares them (``ingestion_core.db.compare``) over the last closed days for the time
series and whole for the snapshots, publishes a table artifact and ends Failed when anything is unexpected.
Deployed paused (``validate-shadow-daily``): resume it for the parallel run (docs/migration.md). Ad hoc:
``python -m flows.validate_shadow`` (defaults) or ``python -m ingestion_core.db.compare`` (every option, same report).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State
from prefect.states import Failed

from flows._common import fail_run
from ingestion_core.errors import IngestError
from ingestion_core.settings import load_settings
from ingestion_core.shadow.parameters import Days, LegacySchema, Tolerance
from tasks.shadow import compare_shadow_task


@flow(name="validate-shadow", retries=0, validate_parameters=True)
def validate_shadow(
    legacy_schema: LegacySchema = "market",
    days: Days = 2,
    tables: tuple[str, ...] = (),
    tolerance: Tolerance = 1e-9,
) -> list[dict[str, Any]] | State[Any]:
    """Compare the legacy tables with the shadow schema (TARGET_SCHEMA) and publish the differences.

    Args:
        legacy_schema: Schema (server database) of the legacy tables.
        days: Closed UTC days compared in the time-series tables, ending yesterday; snapshots are compared whole.
        tables: Tables to compare, as market.name; empty = every legacy table.
        tolerance: Relative tolerance of floating-point columns.
    """
    logger = get_run_logger()
    try:
        settings = load_settings()
    except IngestError as exc:
        return fail_run(exc, logger)
    today = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    window = (today - timedelta(days=days), today - timedelta(seconds=1))
    state = compare_shadow_task(settings, legacy_schema, tables, window, tolerance, return_state=True)
    reports = state.result(raise_on_failure=False)
    if isinstance(reports, IngestError):
        return fail_run(reports, logger)
    if not isinstance(reports, list):
        raise TypeError(f"compare-shadow returned {type(reports).__name__}")  # a bug: let Prefect show it
    rows = [
        {k: r[k] for k in ("table", "legacy_rows", "shadow_rows", "compared", "intended_total", "drift_total")}
        | {"unexpected_total": r["unexpected_total"]}
        | {"unexpected": ", ".join(f"{k} x{v}" for k, v in r["unexpected"].items()) or r["error"]}
        for r in reports
    ]
    unexpected = sum(r["unexpected_total"] for r in reports)
    intended, drift = sum(r["intended_total"] for r in reports), sum(r["drift_total"] for r in reports)
    headline = f"{len(reports)} tables: {intended} intended differences, {drift} drift, {unexpected} unexpected"
    create_table_artifact(table=rows, key="validate-shadow-report", description=headline)
    logger.info("%s", headline)
    if unexpected:
        worst = ", ".join(r["table"] for r in reports if r["unexpected_total"])
        return Failed(message=f"{headline}: {worst}")
    return reports
