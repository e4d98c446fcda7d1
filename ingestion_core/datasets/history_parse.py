"""Shared, vectorised parsing of ``/futures/v1/historical/*`` records into a typed frame plus quarantine records.

A dataset module declares its value columns as a :class:`HistoryLayout`; :meth:`HistoryLayout.parser` returns the
parse function of its spec. How a response becomes rows:

* Each source field is pulled into a Python list once and turned into a typed Polars Series. The common case
  (values of the expected JSON types) takes a fast path: one ``set(map(type, values))`` check and one Series
  construction. Only a column that holds something unexpected is walked value by value, and only to find which
  rows are bad.
* Integral floats arrive as JSON ints (``"OPEN": 103750``); float columns accept both. Counters must be integral.
  ``NUMBER_OF_CONTRACTS`` is a float in the API and BIGINT in the table (F-7): rounded half-to-even, never text.
* Trade-statistic keys absent from filled no-trade candles become NULL (not the zero date, X-1); a ``0``
  timestamp in those columns also means "none" and becomes NULL.
* Row rules (alignment, window, high < low, negatives, non-finite numbers) are one Polars expression; a record
  breaking any rule is quarantined with the first reason found and the rest load (design §3.6).
* ``market`` and ``mapped_instrument`` are the *requested* identity, the one the watermark is read with (fixes
  F-6). A response ``MARKET``/``MAPPED_INSTRUMENT`` that differs is loaded under the requested identity and flagged
  with one quarantine record per window and distinct value, so nothing is silently relabelled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from itertools import repeat
from typing import Any, Literal

import polars as pl

from ingestion_core.datasets.history_values import Bad, float_values, int_values, text_values
from ingestion_core.datasets.intervals import interval_info, interval_of_dataset
from ingestion_core.datasets.spec import Parser, ParseResult
from ingestion_core.quarantine import QuarantineRecord

Kind = Literal["text", "float", "int", "rounded_int", "ts"]

# DATETIME holds years 1000-9999; anything past 9999-12-31 23:59:59 cannot be a real bucket or trade time.
_TS_MAX = 253_402_300_799


@dataclass(frozen=True, slots=True)
class Column:
    """One value column: target name, response field and conversion kind."""

    name: str
    source: str
    kind: Kind


_POLARS: dict[Kind, pl.DataType] = {
    "text": pl.String(),
    "float": pl.Float64(),
    "int": pl.Int64(),
    "rounded_int": pl.Int64(),
    "ts": pl.Datetime("us"),
}

_TIMESTAMP = Column("_ts", "TIMESTAMP", "ts")
_INSTRUMENT = Column("instrument", "INSTRUMENT", "text")

IDENTITY_TEXT: tuple[Column, ...] = (
    Column("type", "TYPE", "text"),
    Column("index_underlying", "INDEX_UNDERLYING", "text"),
    Column("quote_currency", "QUOTE_CURRENCY", "text"),
    Column("settlement_currency", "SETTLEMENT_CURRENCY", "text"),
    Column("contract_currency", "CONTRACT_CURRENCY", "text"),
    Column("denomination_type", "DENOMINATION_TYPE", "text"),
)


def to_epoch(value: datetime | int) -> int:
    """Return Unix seconds for an int or a datetime (a naive datetime is taken as UTC)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(aware.timestamp())
    return int(value)


def naive_utc_second(value: datetime) -> datetime:
    """Return ``value`` as a naive UTC datetime truncated to the second (what a DATETIME column holds)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class HistoryLayout:
    """The value columns of one history dataset and the row rules that apply to them.

    Attributes:
        columns: value columns between the identity columns and ``collected_at``, in table order.
        high_low: (high column, low column) pairs; a row with high < low is quarantined.
        non_negative: columns that may not be negative (volumes, counts).
    """

    columns: tuple[Column, ...]
    high_low: tuple[tuple[str, str], ...] = ()
    non_negative: tuple[str, ...] = ()

    @property
    def schema(self) -> pl.Schema:
        """The target table's Polars schema, in legacy column order."""
        fields: dict[str, pl.DataType] = {
            "datetime": pl.Datetime("us"),
            "market": pl.String(),
            "instrument": pl.String(),
            "mapped_instrument": pl.String(),
        }
        for column in (*IDENTITY_TEXT, *self.columns):
            fields[column.name] = _POLARS[column.kind]
        fields["collected_at"] = pl.Datetime("us")
        return pl.Schema(fields)

    def parser(self) -> Parser:
        """Return the parse function for a spec using this layout."""
        return partial(parse_history, layout=self)


def _raw(column: Column, values: list[Any]) -> tuple[pl.Series, Bad]:
    """The field as received, typed: Float64 for floats and rounded ints, Int64 for counters and timestamps."""
    if column.kind == "text":
        return text_values(values, column.source)
    if column.kind in ("float", "rounded_int"):
        return float_values(values, column.source)
    return int_values(values, column.source, what="timestamp" if column.kind == "ts" else "counter")


def _ts_expr(raw: pl.Expr) -> pl.Expr:
    return (raw * 1_000_000).cast(pl.Datetime("us"))


def _convert(column: Column) -> tuple[pl.Expr, list[pl.Expr]]:
    """The expression producing the table column from its raw column, and the row rules that go with it."""
    raw = pl.col(column.name)
    source = column.source
    if column.kind == "float":
        finite: list[pl.Expr] = [pl.when(~raw.is_finite()).then(pl.lit(f"non-finite value in {source}"))]
        return raw, finite
    if column.kind == "rounded_int":
        rounded = raw.round(0, mode="half_to_even")
        in_range = rounded.abs() < 2.0**63
        rules: list[pl.Expr] = [
            pl.when(~raw.is_finite()).then(pl.lit(f"non-finite value in {source}")),
            pl.when(~in_range).then(pl.lit(f"number out of BIGINT range in {source}")),
        ]
        return pl.when(in_range).then(rounded).cast(pl.Int64), rules
    if column.kind == "ts":
        # 0 in a trade-statistic timestamp means "no such trade": NULL, not 1970-01-01.
        rule = pl.when((raw < 0) | (raw > _TS_MAX)).then(pl.lit(f"timestamp out of range in {source}"))
        valid = pl.when((raw > 0) & (raw <= _TS_MAX)).then(raw)
        return _ts_expr(valid), [rule.otherwise(None)]
    return raw, list[pl.Expr]()


def parse_history(
    records: Sequence[Mapping[str, Any]],
    *,
    dataset: str,
    market: str,
    mapped_instrument: str,
    window_start: datetime | int,
    window_end: datetime | int,
    collected_at: datetime,
    layout: HistoryLayout,
    interval: str | None = None,
) -> ParseResult:
    """Parse the ``Data`` array of one history response (see the module docstring for the rules).

    Args:
        records: the response records, ascending by ``TIMESTAMP`` as the API sends them.
        dataset: per-interval dataset name (``futures_ohlcv_1h``); names the quarantine records and, unless
            ``interval`` is given, supplies the bucket length.
        market: the requested market (stored in every row).
        mapped_instrument: the requested mapped instrument symbol (stored in every row).
        window_start: first bucket start requested (inclusive), Unix seconds or datetime (naive = UTC).
        window_end: last bucket start requested (inclusive, the ``to_ts`` sent).
        collected_at: the run's fetch time, one value for every row (stored naive UTC, to the second).
        layout: the dataset's value columns and rules.
        interval: the interval, when ``dataset`` does not end with one.

    Returns:
        The frame in the table's schema (ascending ``datetime``, unique key) and the quarantined records.

    Raises:
        ValueError: when the interval can be found neither in ``interval`` nor in ``dataset``.
    """
    unit_interval = interval or interval_of_dataset(dataset)
    if unit_interval is None:
        raise ValueError(f"cannot tell the interval of dataset {dataset!r}; pass interval=")
    unit = interval_info(unit_interval).seconds
    schema = layout.schema
    n = len(records)
    if n == 0:
        return ParseResult(pl.DataFrame(schema=schema))
    start, end = to_epoch(window_start), to_epoch(window_end)

    reasons: Bad = {}
    rows: Sequence[Mapping[str, Any]] = records
    if not all(type(r) is dict for r in records):
        rows = [dict(r) if isinstance(r, Mapping) else {} for r in records]
        reasons.update({i: "record is not an object" for i, r in enumerate(records) if not isinstance(r, Mapping)})

    raw: list[pl.Series] = []
    for column in (_TIMESTAMP, _INSTRUMENT, *IDENTITY_TEXT, *layout.columns):
        series, bad = _raw(column, _pull(rows, column.source))
        _merge(reasons, bad)
        raw.append(series.alias(column.name))
    echoed: dict[str, list[Any]] = {}
    for field, requested in (("MARKET", market), ("MAPPED_INSTRUMENT", mapped_instrument)):
        values = _pull(rows, field)
        if not _only(values, requested):  # only then is a flag possible; the common case skips the work
            echoed[field] = values
            # Compared with the request (flags), never stored: junk here does not reject the row.
            raw.append(text_values(values, field)[0].alias(field))
    if reasons:
        raw.append(pl.Series("_pre", [reasons.get(i) for i in range(n)], dtype=pl.String))
    frame = pl.DataFrame(raw)

    ts = pl.col("_ts")
    value_outputs, value_checks = _layout_exprs(layout)
    outputs: list[pl.Expr] = [
        _ts_expr(pl.when((ts >= 0) & (ts <= _TS_MAX)).then(ts)).alias("datetime"),
        pl.lit(market, pl.String).alias("market"),
        pl.col("instrument"),
        pl.lit(mapped_instrument, pl.String).alias("mapped_instrument"),
        *value_outputs,
        pl.lit(naive_utc_second(collected_at), pl.Datetime("us")).alias("collected_at"),
    ]
    checks: list[pl.Expr] = [pl.col("_pre")] if reasons else []
    checks += [
        pl.when(ts.is_null()).then(pl.lit("missing TIMESTAMP")),
        pl.when((ts < 0) | (ts > _TS_MAX)).then(pl.lit("TIMESTAMP out of range")),
        pl.when(ts % unit != 0).then(pl.lit(f"TIMESTAMP not aligned to the {unit}s bucket")),
        pl.when((ts < start) | (ts > end)).then(pl.lit(f"TIMESTAMP outside the requested window [{start}, {end}]")),
        pl.when(pl.col("instrument").is_null()).then(pl.lit("missing INSTRUMENT")),
        *value_checks,
    ]
    reason = pl.col("_reason")
    checked = (
        frame.lazy()
        .with_row_index("_row")
        .with_columns(pl.coalesce(checks).alias("_reason"))
        .with_columns(
            # Of several good rows with one TIMESTAMP the first is kept: rows that break no rule and share a
            # bucket are the same bucket sent twice, and dropping all of them would leave a gap below the watermark.
            pl.when(reason.is_null() & ~pl.when(reason.is_null()).then(ts).is_first_distinct())
            .then(pl.lit("duplicate TIMESTAMP in response (first occurrence kept)"))
            .otherwise(reason)
            .alias("_reason")
        )
        .collect()
    )
    if checked.get_column("_reason").null_count() == n:
        good, quarantined = checked, []
    else:
        good = checked.filter(reason.is_null())
        bad_rows = checked.filter(reason.is_not_null()).select("_row", "_reason")
        quarantined = _quarantine(records, bad_rows, dataset=dataset, market=market, mapped=mapped_instrument)
    if not good.get_column("_ts").is_sorted():
        good = good.sort("_ts")
    flags = _identity_flags(rows, good, echoed, dataset=dataset, market=market, mapped=mapped_instrument)
    return ParseResult(
        frame=good.select(outputs),
        quarantined=quarantined + flags,
        flagged=len(flags),
    )


def _pull(rows: Sequence[Mapping[str, Any]], field: str) -> list[Any]:
    """One field of every record, None where absent (``map`` over ``dict.get`` runs without a Python frame)."""
    return list(map(dict.get, rows, repeat(field)))  # type: ignore[arg-type]


def _only(values: list[Any], expected: str) -> bool:
    """Whether every value is ``expected`` or None."""
    try:
        return set(values) <= {expected, None}
    except TypeError:  # an unhashable value (object or array) is certainly not the expected text
        return False


@cache
def _layout_exprs(layout: HistoryLayout) -> tuple[tuple[pl.Expr, ...], tuple[pl.Expr, ...]]:
    """The layout's output expressions and row rules, built once per layout (building them costs ~1 ms)."""
    outputs: list[pl.Expr] = []
    checks: list[pl.Expr] = []
    for column in (*IDENTITY_TEXT, *layout.columns):
        expr, rules = _convert(column)
        outputs.append(expr.alias(column.name))
        checks += rules
    checks += [pl.when(pl.col(hi) < pl.col(lo)).then(pl.lit(f"{hi} < {lo}")) for hi, lo in layout.high_low]
    checks += [pl.when(pl.col(name) < 0).then(pl.lit(f"negative {name}")) for name in layout.non_negative]
    return tuple(outputs), tuple(checks)


def _merge(reasons: Bad, bad: Mapping[int, str]) -> None:
    for i, why in bad.items():
        reasons.setdefault(i, why)


def _quarantine(
    records: Sequence[Any], bad_rows: pl.DataFrame, *, dataset: str, market: str, mapped: str
) -> list[QuarantineRecord]:
    out: list[QuarantineRecord] = []
    seen: set[str] = set()
    for row, reason in bad_rows.iter_rows():
        raw = records[row]
        payload: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {"record": raw}
        stamp = payload.get("TIMESTAMP")
        record = QuarantineRecord.of(
            dataset, (market, mapped, stamp if stamp is not None else f"row{row}"), reason, payload
        )
        if record.record_key in seen:  # keys must be unique within one batch (duplicates, junk timestamps)
            record = QuarantineRecord(dataset, f"{record.record_key}#{row}", reason, record.raw_payload)
        seen.add(record.record_key)
        out.append(record)
    return out


def _identity_flags(
    rows: Sequence[Mapping[str, Any]],
    good: pl.DataFrame,
    echoed: Mapping[str, list[Any]],
    *,
    dataset: str,
    market: str,
    mapped: str,
) -> list[QuarantineRecord]:
    """One flag per (field, differing response value) among loaded rows: the rows are kept under the request."""
    flags: list[QuarantineRecord] = []
    for field, requested in (("MARKET", market), ("MAPPED_INSTRUMENT", mapped)):
        if field not in echoed:
            continue
        differing = (
            good.filter(pl.col(field).is_not_null() & (pl.col(field) != requested))
            .group_by(field, maintain_order=True)
            .agg(pl.col("_row").first(), pl.len())
        )
        for text, row, count in differing.iter_rows():
            reason = (
                f"response {field} {text!r} differs from requested {requested!r} in {count} row(s); "
                "rows loaded under the requested value"
            )
            flags.append(QuarantineRecord.of(dataset, (market, mapped, f"{field}={text}"), reason, rows[row]))
    return flags
