"""How a history record becomes a row: the field map and row rules of a dataset, and what parsing by them returns.

Both the dataset spec (``datasets.spec``, which declares a :class:`Layout` per dataset) and the parser
(``datasets.parse``, which applies it and returns a :class:`ParseResult`) read these, so they live below both.
Nothing here imports Polars at run time: command-line help reads the specs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from ingestion_core.quarantine import QuarantineRecord

if TYPE_CHECKING:
    import polars as pl

Kind = Literal["text", "name", "float", "int", "rounded_int", "ts", "epoch"]

#: Which SQL column types each conversion kind may feed.
KIND_TYPES: Mapping[Kind, tuple[str, ...]] = MappingProxyType(
    {
        "text": ("VARCHAR", "TEXT"),
        "name": ("VARCHAR", "TEXT"),
        "float": ("DOUBLE",),
        "int": ("BIGINT", "INT"),
        "rounded_int": ("BIGINT",),
        "ts": ("DATETIME",),
        "epoch": ("BIGINT",),
    }
)


@dataclass(frozen=True, slots=True)
class Field:
    """One response field and the column it feeds.

    Attributes:
        column: the target column.
        source: the record's field name (``OPEN``, ``volumefrom``).
        kind: ``text`` (a code: a number the API sends for it, ``TYPE: 614``, is kept as its decimal text);
            ``name`` (an instrument, asset or currency name: text only, a number is quarantined, never stored as
            if it were the name); ``float``; ``int`` (an integral counter); ``rounded_int`` (a float stored in
            BIGINT, half to even, F-7); ``ts`` (Unix seconds into DATETIME, 0 = none = NULL); ``epoch`` (Unix
            seconds kept as a BIGINT, 0 = NULL).
        required: a record whose value is missing or null is quarantined (OPEN/HIGH/LOW/CLOSE of a candle).
    """

    column: str
    source: str
    kind: Kind
    required: bool = False


@dataclass(frozen=True, slots=True)
class Within:
    """Columns of one OHLC group that must lie within the group's ``[low, high]`` (ends included).

    Attributes:
        columns: the values checked, usually the group's open and close (``("open", "close")``).
        low: the group's low column.
        high: the group's high column.
    """

    columns: tuple[str, ...]
    low: str
    high: str


@dataclass(frozen=True, slots=True)
class Layout:
    """How one history record becomes one row, and which records are kept out.

    Attributes:
        fields: the response field -> column map.
        time_field: the record's bucket-start field (``TIMESTAMP`` on the Data API, ``time`` on the Min API).
        echo: (response field, written column) pairs: a response value that differs from the requested series is
            loaded under the request and flagged (F-6), never silently relabelled.
        positive: price columns that must be above zero (``open <= 0`` is quarantined). A funding rate is not a
            price: it may be zero or negative.
        high_low: (high column, low column) pairs; a row with high < low is quarantined.
        within: OHLC groups whose open and close must lie within their low..high (``open outside [low, high]``).
        non_negative: columns that may not be negative (volumes, counts, open interest).
        zero_rows: Min API only: points whose prices and volumes are all zero are "no data" (the API's answer
            before a pair existed): leading ones are dropped, later ones quarantined; never stored as zeros.
        overflow: what happens to a record outside the requested window: ``quarantine`` (Data API: the API broke
            its contract) or ``drop`` (Min API: it always answers one point more than asked).
    """

    fields: tuple[Field, ...]
    time_field: str = "TIMESTAMP"
    echo: tuple[tuple[str, str], ...] = ()
    positive: tuple[str, ...] = ()
    high_low: tuple[tuple[str, str], ...] = ()
    within: tuple[Within, ...] = ()
    non_negative: tuple[str, ...] = ()
    zero_rows: bool = False
    overflow: Literal["quarantine", "drop"] = "quarantine"

    def field_for(self, column: str) -> Field | None:
        """The field feeding ``column``, if any."""
        return next((f for f in self.fields if f.column == column), None)


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What a parser returns.

    Attributes:
        frame: the rows to load, exactly in the target table's schema, ascending in time, unique on the key.
        quarantined: records rejected by a rule (not in ``frame``) and flags about loaded rows.
        flagged: how many of ``quarantined`` are flags about rows that were still loaded.
        dropped: records left out without a quarantine record (Min API: before first data, outside the window).
        rejected_at: the timestamp of each quarantined record that had a readable one, with its first reason (the
            buckets a window leaves as holes, ``pipeline.holes``).
    """

    frame: pl.DataFrame
    quarantined: list[QuarantineRecord] = field(default_factory=list)
    flagged: int = 0
    dropped: int = 0
    rejected_at: Mapping[int, str] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        """How many response records were quarantined (not loaded)."""
        return len(self.quarantined) - self.flagged
