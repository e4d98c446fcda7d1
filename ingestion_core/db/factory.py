"""Choose and build the warehouse backend from the database settings (drivers are imported only here, lazily)."""

from __future__ import annotations

from ingestion_core.db.base import Clock, Warehouse, utc_now
from ingestion_core.db.target import resolve_target
from ingestion_core.settings import DatabaseSettings


def open_warehouse(settings: DatabaseSettings, *, clock: Clock = utc_now) -> Warehouse:
    """Build the warehouse the settings name (use it as an async context manager).

    ``DATABASE_URL`` wins; else ``DB_HOST`` selects the server backend; else SQLite under ``data_dir``. Nothing
    connects until ``__aenter__``, which raises one DatabaseError naming host and port if the server is unreachable.

    Raises:
        ConfigurationError: a malformed URL (unknown scheme, missing host), password masked.
    """
    target = resolve_target(settings)
    if target.backend == "sqlite":
        from ingestion_core.db.sqlite import SqliteWarehouse

        assert target.path is not None
        return SqliteWarehouse(settings, target.path, clock=clock)
    from ingestion_core.db.singlestore import SingleStoreWarehouse

    return SingleStoreWarehouse(settings, target, clock=clock)
