"""The declarative description of a time-series dataset: what to call, where it goes, how a response becomes rows.

A dataset is a frozen :class:`TimeSeriesSpec` (composition, not a subclass): the endpoint path and target table
templates, the key, the Polars schema of the target table and a parse function. The shared machinery (window
planning, the client, the warehouse) reads the spec; nothing overrides hooks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import polars as pl

from ingestion_core.datasets.intervals import interval_info
from ingestion_core.quarantine import QuarantineRecord


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What a parser returns.

    Attributes:
        frame: the rows to load, exactly in the target table's schema, ascending in the time column.
        quarantined: records rejected by a quality rule (not in ``frame``) and flags about loaded rows (see
            ``docs/datasets.md``: a response ``MAPPED_INSTRUMENT`` that differs from the request is loaded under
            the requested symbol and flagged once per window).
        flagged: how many of ``quarantined`` are flags about rows that were still loaded.
    """

    frame: pl.DataFrame
    quarantined: list[QuarantineRecord] = field(default_factory=list)
    flagged: int = 0

    @property
    def rejected(self) -> int:
        """How many response records were not loaded."""
        return len(self.quarantined) - self.flagged


class Parser(Protocol):
    """The parse function of a time-series dataset."""

    def __call__(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        dataset: str,
        market: str,
        mapped_instrument: str,
        window_start: datetime | int,
        window_end: datetime | int,
        collected_at: datetime,
    ) -> ParseResult:
        """Turn the ``Data`` array of one history response into a typed frame plus quarantined records."""
        ...


@dataclass(frozen=True, slots=True)
class TimeSeriesSpec:
    """One time-series dataset.

    Attributes:
        name: dataset name, e.g. ``futures_ohlcv``; per-interval names add the suffix (``futures_ohlcv_1h``).
        path: endpoint template, ``{unit}`` is ``minutes``/``hours``/``days``.
        table: target table template, ``{interval}`` is ``1m``/``1h``/``1d``.
        schema: the Polars schema of the target table, in table column order.
        parse: turns response records into a :class:`ParseResult`.
        instruments_flag: the ``cc_instruments_futures`` boolean column selecting the instruments to fetch.
        first_column: the ``cc_instruments_futures`` column holding the instrument's first data time.
        last_column: the ``cc_instruments_futures`` column holding the instrument's last data time.
        extra_params: query parameters sent on every history call besides market/instrument/limit/to_ts.
        key: the table key.
        time_column: the bucket-start column (the watermark is its maximum per entity).
        entity_columns: the columns identifying one instrument.
    """

    name: str
    path: str
    table: str
    schema: pl.Schema
    parse: Parser
    instruments_flag: str
    first_column: str
    last_column: str
    extra_params: Mapping[str, str]
    key: tuple[str, ...] = ("datetime", "market", "mapped_instrument")
    time_column: str = "datetime"
    entity_columns: tuple[str, ...] = ("market", "mapped_instrument")

    def table_for(self, interval: str) -> str:
        """Return the target table for ``interval`` (``market.cc_futures_ohlcv_1h``)."""
        return self.table.format(interval=interval_info(interval).interval)

    def path_for(self, interval: str) -> str:
        """Return the endpoint path for ``interval`` (``/futures/v1/historical/hours``)."""
        return self.path.format(unit=interval_info(interval).unit)

    def dataset_for(self, interval: str) -> str:
        """Return the per-interval dataset name used in quarantine records (``futures_ohlcv_1h``)."""
        return f"{self.name}_{interval_info(interval).interval}"
