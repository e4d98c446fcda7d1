"""The declarative description of a time-series dataset: what to call, which series, how a record becomes a row.

A dataset is one frozen :class:`TimeSeriesSpec` (composition, not a subclass):

* ``tables``: the target :class:`~ingestion_core.db.tables.TableSpec` per interval it offers (the index dataset
  has only ``1d``); the Polars schema is derived from the table, never declared twice;
* ``endpoint``: the history endpoint (a Data API path with ``{unit}``, or the Min API's ``histo*``) and the query
  parameters sent on every call;
* ``layout``: the response field -> column map with its conversion kinds and the row rules (``datasets.layout``);
* ``source``: where the series come from (futures instruments table, top pairs, top assets, configured pairs),
  which also contributes the flow's selection parameters.

The field map is checked against every table when the spec is built (at import): a column without a source, a
field without a column, or a kind that does not fit the column type fails loudly, before any run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ingestion_core.datasets.layout import KIND_TYPES, Field, Kind, Layout, ParseResult, Within
from ingestion_core.db.tables import TableSpec
from ingestion_core.errors import ConfigurationError, ParameterError
from ingestion_core.intervals import INTERVALS, Interval, interval_info
from ingestion_core.parameters import RunParameters, parameters_model
from ingestion_core.sources.base import Series, SeriesSource

if TYPE_CHECKING:
    import polars as pl

    from ingestion_core.api.reachability import Api
    from ingestion_core.datasets.parse import WindowRecords


@dataclass(frozen=True, slots=True)
class DataApiHistory:
    """A Data API history endpoint: ``path`` with ``{unit}``, paged forward with ``to_ts`` and ``limit``.

    Attributes:
        path: e.g. ``/futures/v1/historical/{unit}``.
        params: query parameters sent on every call besides the series' and ``to_ts``/``limit``.
    """

    path: str
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def path_for(self, interval: Interval) -> str:
        """The endpoint path for ``interval`` (``/futures/v1/historical/hours``)."""
        return self.path.format(unit=interval_info(interval).unit)

    def max_buckets(self, interval: Interval) -> int:
        """Buckets one call may return."""
        return interval_info(interval).data_api_max_limit


@dataclass(frozen=True, slots=True)
class MinApiHistory:
    """The Min API's ``/data/v2/histo{minute,hour,day}``: ``limit + 1`` points ending at ``toTs``.

    Attributes:
        params: query parameters sent on every call besides the series' and ``toTs``/``limit``.
    """

    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def path_for(self, interval: Interval) -> str:
        """The endpoint path for ``interval`` (``/data/v2/histohour``)."""
        return f"/data/v2/{interval_info(interval).min_api_endpoint}"

    def max_buckets(self, interval: Interval) -> int:
        """Buckets one call may return (``limit + 1``)."""
        return interval_info(interval).min_api_max_buckets


Endpoint = DataApiHistory | MinApiHistory

#: Buckets before the watermark every incremental run reads again, because the API changes them after they close
#: (docs/datasets.md, "Revisions"). In a real trace of one minute series the just-closed minute changed in about half
#: of the recordings (late trades) and once a block of the last 2-32 minutes changed together; re-reading 40 minutes
#: made the table equal to the API's final state there: 45 leaves a margin for a run that starts late. An hour or a
#: day is revised by the same late trades, and a 30-minute block touches at most the last two: 3 is one more.
#: Each fits in the one call an incremental run makes anyway (2,000 and 5,000 buckets per call).
DEFAULT_REVISION_BUCKETS: Mapping[Interval, int] = MappingProxyType({"1m": 45, "1h": 3, "1d": 3})
_PARAMETER_MODELS: dict[str, type[RunParameters]] = {}


@dataclass(frozen=True, slots=True)
class TimeSeriesSpec:
    """One time-series dataset (see the module docstring).

    Attributes:
        name: dataset name, e.g. ``futures_ohlcv``; also the flow's module and the Prefect event resource.
        title: what it ingests, for help texts and summaries (``futures OHLCV candles``).
        tables: the target table per interval offered.
        endpoint: the history endpoint.
        layout: the field map and row rules.
        source: where the series come from.
        flow_name: the Prefect flow name (``futures-ohlcv``).
        notes: extra help text for the flow's docstring (one paragraph).
        use_case: the ``cc_rate_limit_status.use_case`` label of its API-usage records (the legacy script's,
            ``{interval}`` replaced), e.g. ``ingest_ohlcv_futures_{interval}``.
        revision_buckets: per interval, the buckets before the watermark an incremental run reads again because
            the API revises them (``INGEST_REVISION_BUCKETS`` overrides it).
    """

    name: str
    title: str
    tables: Mapping[Interval, TableSpec]
    endpoint: Endpoint
    layout: Layout
    source: SeriesSource
    flow_name: str = ""
    notes: str = ""
    use_case: str = ""
    revision_buckets: Mapping[Interval, int] = field(default_factory=lambda: DEFAULT_REVISION_BUCKETS)

    def __post_init__(self) -> None:
        if not self.tables:
            raise ConfigurationError(f"{self.name}: a dataset needs at least one table")
        for interval, table in self.tables.items():
            _check_table(self, interval, table)
        if not self.flow_name:
            object.__setattr__(self, "flow_name", self.name.replace("_", "-"))

    @property
    def parameters(self) -> type[RunParameters]:
        """The run parameter model: the common parameters, the source's selection, ``interval`` among ours."""
        model = _PARAMETER_MODELS.get(self.name)
        if model is None:  # built on first use: a pydantic model costs tens of ms, help needs only one
            model = _PARAMETER_MODELS[self.name] = parameters_model(self.name, self.intervals, self.source.selection)
        return model

    @property
    def apis(self) -> tuple[Api, ...]:
        """The APIs a run calls: its history endpoint's, and the Data API when the source reads a live top list."""
        own: Api = "min" if isinstance(self.endpoint, MinApiHistory) else "data"
        return (own, "data") if self.source.needs_client and own != "data" else (own,)

    @property
    def intervals(self) -> tuple[Interval, ...]:
        """The intervals the dataset has tables for, in ``1m``, ``1h``, ``1d`` order."""
        return tuple(i for i in INTERVALS if i in self.tables)

    def table_for(self, interval: str) -> TableSpec:
        """The target table for ``interval``.

        Raises:
            ParameterError: the dataset has no table for it.
        """
        table: TableSpec | None = self.tables.get(interval)  # type: ignore[call-overload]
        if table is None:
            raise ParameterError(f"{self.name} has no {interval} table; intervals: {', '.join(self.intervals)}")
        return table

    def revision_for(self, interval: str, overrides: Mapping[str, int] | None = None) -> int:
        """Buckets an incremental run at ``interval`` reads again before each watermark.

        Args:
            interval: the run's interval.
            overrides: ``INGEST_REVISION_BUCKETS`` entries, keyed ``<dataset>_<interval>`` or ``<interval>``.
        """
        table = self.table_for(interval)
        chosen = overrides or {}
        for key in (f"{self.name}_{table.interval}", str(table.interval)):
            if key in chosen:
                return chosen[key]
        return self.revision_buckets.get(table.interval or "1h", 0)

    def use_case_for(self, interval: str) -> str:
        """The API-usage ``use_case`` label of a run at ``interval`` (empty: the dataset records none)."""
        return self.use_case.format(interval=interval)

    def dataset_for(self, interval: str) -> str:
        """The per-interval dataset name used in quarantine records and events (``futures_ohlcv_1h``)."""
        return f"{self.name}_{self.table_for(interval).interval}"

    def schema(self, interval: Interval) -> pl.Schema:
        """The Polars schema of the target table (derived from the table spec)."""
        from ingestion_core.db.tables import polars_schema

        return polars_schema(self.table_for(interval))

    def parse(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        interval: Interval,
        series: Series,
        window_start: datetime | int,
        window_end: datetime | int,
        collected_at: datetime,
    ) -> ParseResult:
        """Turn the records of one history answer into rows of the interval's table (see ``datasets.parse``)."""
        # Imported here, not at the top: the parser imports Polars (~0.7 s), which command-line help never needs.
        from ingestion_core.datasets.parse import WindowRecords

        answer = WindowRecords(records, series, window_start, window_end, collected_at)
        (result,) = self.parse_many([answer], interval=interval)
        return result

    def parse_many(self, windows: Sequence[WindowRecords], *, interval: Interval) -> list[ParseResult]:
        """Parse several answers of the interval's table in one pass (``datasets.parse.parse_windows``)."""
        from ingestion_core.datasets.parse import parse_windows

        return parse_windows(
            windows,
            layout=self.layout,
            table=self.table_for(interval),
            dataset=self.dataset_for(interval),
            unit_seconds=interval_info(interval).seconds,
        )


def _check_table(spec: TimeSeriesSpec, interval: Interval, table: TableSpec) -> None:
    """The field map must produce exactly the table's columns with fitting types (checked at import)."""
    where = f"{spec.name} {interval} -> {table.qualified_name}"
    if table.interval != interval or table.time_column is None:
        raise ConfigurationError(f"{where}: not a {interval} time-series table")
    constant = set(spec.source.identity_columns)
    if not set(table.entity_columns) <= constant:
        raise ConfigurationError(f"{where}: the source does not write the entity columns {table.entity_columns}")
    produced = [table.time_column, *spec.source.identity_columns, *(f.column for f in spec.layout.fields)]
    produced += list(table.refresh_columns)
    duplicates = sorted({c for c in produced if produced.count(c) > 1})
    missing = [c for c in table.column_names if c not in produced]
    unknown = [c for c in produced if not table.has_column(c)]
    if duplicates or missing or unknown:
        raise ConfigurationError(
            f"{where}: field map does not match the table (columns without a source {missing}, "
            f"fields without a column {unknown}, fed twice {duplicates})"
        )
    for item in spec.layout.fields:
        sql = table.column(item.column).sql_type.split("(", 1)[0]
        if sql not in KIND_TYPES[item.kind]:
            raise ConfigurationError(f"{where}: {item.source} -> {item.column} is {item.kind} but the column is {sql}")
    for column in _rule_columns(spec.layout):
        fed = spec.layout.field_for(column)
        if fed is None:
            raise ConfigurationError(f"{where}: rule names {column!r}, which no field feeds")
        if fed.kind not in _NUMERIC_KINDS:  # a text column would compare as text, silently
            raise ConfigurationError(f"{where}: rule names {column!r}, which is {fed.kind}, not a number")
    for group in spec.layout.within:
        if not group.columns or group.low == group.high:
            raise ConfigurationError(f"{where}: within rule {group} needs columns and two distinct bounds")
    for _, column in spec.layout.echo:
        if column not in constant:
            raise ConfigurationError(f"{where}: echo check against {column!r}, which the source does not write")


_NUMERIC_KINDS: tuple[Kind, ...] = ("float", "int", "rounded_int")


def _rule_columns(layout: Layout) -> list[str]:
    """Every column a row rule names (sign, high/low and within rules)."""
    columns = [*layout.positive, *(c for pair in layout.high_low for c in pair), *layout.non_negative]
    for group in layout.within:
        columns += [*group.columns, group.low, group.high]
    return columns


# The layout's vocabulary is part of a spec: a dataset module declares its spec with it.
__all__ = [
    "DEFAULT_REVISION_BUCKETS",
    "KIND_TYPES",
    "DataApiHistory",
    "Endpoint",
    "Field",
    "Kind",
    "Layout",
    "MinApiHistory",
    "ParseResult",
    "TimeSeriesSpec",
    "Within",
]
