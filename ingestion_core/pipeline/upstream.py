"""Which of a set of tables are still empty: what a held time-series deployment waits for (tasks/awaiting.py)."""

from __future__ import annotations

from collections.abc import Iterable

from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.tables import TableSpec, get_table
from ingestion_core.settings import DatabaseSettings


async def empty_tables(settings: DatabaseSettings, tables: Iterable[TableSpec | str]) -> set[str]:
    """The qualified names of the tables that are missing or hold no row (one probe each, no count).

    Raises:
        IngestError: the warehouse cannot be reached or read (a configuration or database error).
    """
    specs = [get_table(t) if isinstance(t, str) else t for t in tables]
    empty: set[str] = set()
    async with open_warehouse(settings) as warehouse:
        for table in specs:
            if await warehouse.primary_key_of(table) is None or not await warehouse.has_rows(table):
                empty.add(table.qualified_name)
    return empty
