"""The pipeline's own tables: quarantined records, holes to repair, the schema version, one row per run (run log).

These are ours, not the legacy contract's: a column added to one is added to a stored table by
``Warehouse.ensure_schema`` (nullable, so older rows stay valid), which never alters a legacy table.
"""

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

#: Buckets missing below a series' watermark: their records were quarantined or the API's answer left them out.
#: Later runs re-request them; ``attempts`` counts the answers that came back without them, and one that reaches
#: ``INGEST_HOLE_ATTEMPTS`` is no longer requested but stays here, reported (docs/architecture.md, "Holes").
INGEST_HOLES = TableSpec(
    schema="market",
    name="ingest_holes",
    columns=parse_columns(
        """
        table_name VARCHAR(128) !
        series VARCHAR(512) !
        bucket DATETIME !
        reason TEXT !
        attempts INT !
        first_seen DATETIME !
        last_seen DATETIME !
        """
    ),
    primary_key=("table_name", "series", "bucket"),
    shard_key=("table_name", "series"),
    sort_key=("table_name", "series", "bucket"),
    refresh_columns=("last_seen",),
    insert_only_columns=("first_seen",),
    legacy=False,
)

#: Rows the API changed after they were stored: one row per revised bucket and run that saw it, with the columns that
#: moved (a data-quality signal: how much, and how often, the API revises; docs/datasets.md, "Revisions").
INGEST_REVISIONS = TableSpec(
    schema="market",
    name="ingest_revisions",
    columns=parse_columns(
        """
        table_name VARCHAR(128) !
        series VARCHAR(512) !
        bucket DATETIME !
        revised_at DATETIME !
        changed_columns TEXT !
        """
    ),
    primary_key=("table_name", "series", "bucket", "revised_at"),
    shard_key=("table_name", "series"),
    sort_key=("table_name", "series", "bucket"),
    refresh_columns=(),
    insert_only_columns=(),
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
        rows_changed BIGINT
        rows_unchanged BIGINT
        quarantined BIGINT
        failed_series INT
        failure TEXT
        holes_repaired INT
        holes_open INT
        holes_permanent INT
        attempts INT
        """
    ),
    primary_key=("flow_run_id",),
    shard_key=("flow_run_id",),
    sort_key=("started_at",),
    refresh_columns=(),
    insert_only_columns=(),
    legacy=False,
)

BOOKKEEPING_TABLES: tuple[TableSpec, ...] = (
    INGEST_QUARANTINE,
    INGEST_HOLES,
    INGEST_REVISIONS,
    INGEST_SCHEMA_VERSION,
    INGEST_RUN_LOG,
)
