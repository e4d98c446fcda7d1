"""What a series source is: it yields the series a run ingests, with their bounds, request and identity.

A time-series dataset does not know where its instruments come from; its spec points at a source (the idea behind
Singer's parent streams and dlt's resolved parameters). A source

* contributes its own typed run parameters (``selection``: ``markets`` for futures, ``asset_limit`` for top lists);
* selects the series of one run (``select``), each with the bounds of its data when known, the query parameters
  that identify it in a history request, and the constant columns written into every row (the table's entity
  columns among them, which is what watermarks are read by);
* says what to run first when there is nothing to select (``upstream``).

Nothing here imports a driver or Polars: command-line help reads the selection models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel

from ingestion_core.intervals import Interval

if TYPE_CHECKING:
    from ingestion_core.api.client import CcdataClient
    from ingestion_core.db.base import Warehouse
    from ingestion_core.db.tables import TableSpec
    from ingestion_core.parameters import RunParameters
    from ingestion_core.settings import Settings

SeriesKey = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Series:
    """One series to ingest (one instrument on one market, one pair, one index...).

    Attributes:
        key: its identity, the values of the target table's entity columns in their order (the watermark key).
        request: query parameters naming it in a history request (``market``/``instrument``, ``fsym``/``tsym``...).
        columns: constant column values written into every row (the entity columns and e.g. ``quote``).
        status: its status on the exchange (``ACTIVE``, ``EXPIRED``...); only ``ACTIVE`` series run to "now".
        first_data: the first second with data when known (metadata), else None.
        last_data: the last second with data when known; bounds series that are not ACTIVE.
        probe_start: ``first_data`` is only the earliest bound worth asking for, not the series' real start (the
            Min API has no metadata and answers zeros before a pair existed): a first run walks back from "now"
            and stops where the data starts, then writes oldest first.
    """

    key: SeriesKey
    request: tuple[tuple[str, str], ...]
    columns: tuple[tuple[str, str], ...]
    status: str = "ACTIVE"
    first_data: int | None = None
    last_data: int | None = None
    probe_start: bool = False

    @property
    def label(self) -> str:
        """``binance/BTC-USDT-VANILLA-PERPETUAL``: the key joined for messages and artifacts."""
        return "/".join(self.key)

    @property
    def active(self) -> bool:
        """Whether the series still produces data (its range ends at the last closed bucket)."""
        return self.status == "ACTIVE"

    def request_params(self) -> dict[str, str]:
        """The identifying query parameters as a dict."""
        return dict(self.request)

    def column_values(self) -> dict[str, str]:
        """The constant columns as a dict."""
        return dict(self.columns)


@dataclass(frozen=True, slots=True)
class SelectionContext:
    """What a source may use to select a run's series.

    Attributes:
        warehouse: an open warehouse (the source reads its selection tables through it).
        client: an open API client when the source declared ``needs_client``, else None.
        parameters: the run's validated parameters (the source reads its selection fields).
        interval: the run's interval.
        now: the run's clock (Unix seconds).
        settings: the run's settings (defaults such as the configured price pairs).
    """

    warehouse: Warehouse
    client: CcdataClient | None
    parameters: RunParameters
    interval: Interval
    now: int
    settings: Settings


class SeriesSource(Protocol):
    """The protocol every source implements (frozen dataclasses in ``ingestion_core.sources``)."""

    @property
    def selection(self) -> type[BaseModel]:
        """The typed run parameters this source adds to its datasets' flows."""
        ...

    @property
    def identity_columns(self) -> tuple[str, ...]:
        """The columns every series writes as constants (must include the table's entity columns)."""
        ...

    @property
    def reads(self) -> tuple[TableSpec, ...]:
        """The tables the selection reads, as specs (created when missing so a first run fails with a clear message)."""
        ...

    @property
    def needs_client(self) -> bool:
        """Whether selecting needs the API (e.g. a live top list)."""
        ...

    @property
    def skip_unknown(self) -> bool:
        """Whether a series the history endpoint does not know is skipped rather than failed.

        True where the selection comes from another catalogue than the history endpoint's (a top-list asset may
        have no index on the index family); False where the API itself listed the series (an unknown one then is
        an inconsistency worth a failure).
        """
        ...

    async def select(self, context: SelectionContext) -> list[Series]:
        """Return the run's series in a deterministic order (the same tables and parameters give the same list).

        Raises:
            ParameterError: a selection parameter names something that does not exist (unknown market...).
            ConfigurationError: the tables it reads are empty; the message names the flow to run first.
        """
        ...


def series(
    key: SeriesKey,
    request: Mapping[str, str],
    columns: Mapping[str, str],
    *,
    status: str = "ACTIVE",
    first_data: int | None = None,
    last_data: int | None = None,
    probe_start: bool = False,
) -> Series:
    """Build a :class:`Series` from mappings (keeps the tuples sorted so equal series compare equal)."""
    return Series(
        key=key,
        request=tuple(sorted(request.items())),
        columns=tuple(sorted(columns.items())),
        status=status,
        first_data=first_data,
        last_data=last_data,
        probe_start=probe_start,
    )
