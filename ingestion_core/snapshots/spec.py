"""The declarative description of a snapshot (metadata) dataset, and what its fetch and parse hand over.

A snapshot run: fetch the whole catalogue (all pages, all statuses, all markets) → parse into one frame per table,
typed by the table spec → upsert each table (one pass, refusing an unkeyed table) → compare what is listed now with
what was stored → report what appeared and disappeared (events, artifact) and, where the table has a status column,
mark rows the API stopped listing. Rows are never deleted.

Importing this module imports no Polars and no driver: command-line help reads the parameter models.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ingestion_core.db.tables import TableSpec
from ingestion_core.errors import ConfigurationError
from ingestion_core.quarantine import QuarantineRecord

if TYPE_CHECKING:
    import polars as pl

    from ingestion_core.api.client import CcdataClient
    from ingestion_core.api.reachability import Api

#: The status written into a row whose item a complete fetch no longer lists (it is kept, never deleted).
NOT_LISTED = "NOT_LISTED"


@dataclass(slots=True)
class Fetched:
    """What a snapshot's fetch returned.

    Attributes:
        data: the dataset-specific payload (markets keyed by name, a list of assets...).
        failures: what could not be fetched (``market bybit: HTTP 500: ...``, ``page 3: ...``).
        scopes: None when the whole catalogue arrived; otherwise the scopes that arrived complete (market names,
            asset ids): a stored row is reported as disappeared (and marked) only inside a complete scope, so a
            page or a market that failed never makes its rows look gone.
        notes: facts to report (pages read, extra passes needed because the ranking moved).
        retriable: whether a retry could fetch what failed (a 5xx after the client's retries, not a 404).
    """

    data: Any
    failures: list[str] = field(default_factory=list)
    scopes: frozenset[str] | None = None
    notes: dict[str, object] = field(default_factory=dict)
    retriable: bool = False


@dataclass(slots=True)
class Parsed:
    """One frame per table (qualified name → rows in the table's schema) and the records kept out or flagged."""

    frames: dict[str, pl.DataFrame]
    quarantined: list[QuarantineRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Tracked:
    """Rows of one table whose appearing and disappearing is reported.

    Attributes:
        table: the table.
        scope_column: the column whose value is a fetch scope (``exchange_internal_name``); None: the table is
            fetched whole or not at all.
        status_column: when set, a row the API no longer lists gets :data:`NOT_LISTED` there.
    """

    table: TableSpec
    scope_column: str | None = None
    status_column: str | None = None

    def __post_init__(self) -> None:
        for column in (self.scope_column, self.status_column):
            if column is not None:
                self.table.column(column)


Fetch = Callable[["CcdataClient", BaseModel], Awaitable[Fetched]]
Parse = Callable[[Fetched, BaseModel, datetime], Parsed]


@dataclass(frozen=True, slots=True)
class SnapshotSpec:
    """One snapshot dataset.

    Attributes:
        name: dataset name (``futures_instruments``); also its flow module and event resource.
        title: what it refreshes, for help texts and summaries.
        tables: the tables it writes, in write order.
        parameters: its run parameters (a frozen pydantic model; every field described).
        fetch: fetches the catalogue through the client (all pages, markets, statuses).
        parse: turns what was fetched into one frame per table plus quarantine records.
        tracked: the tables whose rows are diffed against what was stored.
        use_case: the ``cc_rate_limit_status.use_case`` label of its API-usage records (legacy names).
        flow_name: the Prefect flow name (``futures-instruments``).
        upstream_of: the datasets that read its tables (for the help text and the deployment order).
        apis: the APIs it calls (``data``: the Data API, ``min``: the Min API), checked at the door of a run.
    """

    name: str
    title: str
    tables: tuple[TableSpec, ...]
    parameters: type[BaseModel]
    fetch: Fetch
    parse: Parse
    tracked: tuple[Tracked, ...] = ()
    use_case: str = ""
    flow_name: str = ""
    upstream_of: tuple[str, ...] = ()
    apis: tuple[Api, ...] = ("data",)

    def __post_init__(self) -> None:
        if not self.flow_name:
            object.__setattr__(self, "flow_name", self.name.replace("_", "-"))
        names = {t.qualified_name for t in self.tables}
        for tracked in self.tracked:
            if tracked.table.qualified_name not in names:
                raise ConfigurationError(f"{self.name}: tracks {tracked.table.qualified_name}, which it does not write")
        for name, info in self.parameters.model_fields.items():
            if not info.description:
                raise ConfigurationError(f"{self.name}: parameter {name} has no description")

    @property
    def table_names(self) -> tuple[str, ...]:
        """The qualified names of its tables, in write order."""
        return tuple(t.qualified_name for t in self.tables)


def check_frames(spec: SnapshotSpec, frames: Mapping[str, Any]) -> None:
    """A parse must return exactly one frame per table of the spec (programming error otherwise)."""
    if set(frames) != set(spec.table_names):
        raise ConfigurationError(f"{spec.name}: parse returned {sorted(frames)}, expected {sorted(spec.table_names)}")
