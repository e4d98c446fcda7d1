"""The pipeline's own tables: quarantined records, the schema version, and one row per run (the run log)."""

from __future__ import annotations

from ingestion_core.db.tables.columns import parse_columns
from ingestion_core.db.tables.spec import TableSpec

INGEST_QUARANTINE = TableSpec(
    schema="market",
    name="ingest_quarantine",
    columns=parse_columns(
        """
        dataset VARCHAR(128) !
        record_key VARCHAR(512) !
        reason TEXT !
        raw_payload TEXT !
        first_seen DATETIME !
        last_seen DATETIME !
        """
    ),
    primary_key=("dataset", "record_key"),
    shard_key=("dataset", "record_key"),
    sort_key=("dataset", "record_key"),
    refresh_columns=("last_seen",),
    insert_only_columns=("first_seen",),
    legacy=False,
)

#: When each schema version was first applied: ``applied_at`` is set once (a later start does not move it).
INGEST_SCHEMA_VERSION = TableSpec(
    schema="market",
    name="ingest_schema_version",
    columns=parse_columns(
        """
        version INT !
        description VARCHAR(255) !
        applied_at DATETIME !
        """
    ),
    primary_key=("version",),
    reference=True,
    refresh_columns=(),
    insert_only_columns=("applied_at",),
    legacy=False,
)

#: One row per flow run: what it did and how fast; trends are one SQL query away (python -m ingestion_core.db.runs).
INGEST_RUN_LOG = TableSpec(
    schema="market",
    name="ingest_run_log",
    columns=parse_columns(
        """
        flow_run_id VARCHAR(64) !
        flow VARCHAR(128) !
        dataset VARCHAR(64) !
        interval_name VARCHAR(8)
        started_at DATETIME !
        ended_at DATETIME !
        state VARCHAR(16) !
        dry_run BOOLEAN
        series INT
        calls INT
        http_attempts INT
        rate_limited INT
        waited_seconds DOUBLE
        latency_p50 DOUBLE
        latency_p95 DOUBLE
        upsert_seconds DOUBLE
        rows_inserted BIGINT
        rows_updated BIGINT
        quarantined BIGINT
        failed_series INT
        failure TEXT
        """
    ),
    primary_key=("flow_run_id",),
    shard_key=("flow_run_id",),
    sort_key=("started_at",),
    refresh_columns=(),
    insert_only_columns=(),
    legacy=False,
)

BOOKKEEPING_TABLES: tuple[TableSpec, ...] = (INGEST_QUARANTINE, INGEST_SCHEMA_VERSION, INGEST_RUN_LOG)
