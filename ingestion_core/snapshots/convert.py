"""Turn metadata JSON values into column values by the column's SQL type, flagging every value that cannot be used.

One rule for every snapshot table (field-mapping §1.2 lists what the legacy scripts did instead):

=============  ==============================================================================================
column type    value
=============  ==============================================================================================
BOOLEAN        ``true``/``1``/``"true"`` (any case) True; ``false``/``0``/``"false"`` False; absent NULL (S-2)
BIGINT, INT    an integer (or integral float); a fractional number, text or a value beyond BIGINT is flagged
DATETIME       Unix seconds -> naive UTC; ``0`` and absent are NULL, never the zero date (X-1)
DOUBLE         a number; text ``"1.5"`` is accepted (the Min API sends some numbers as text)
VARCHAR, TEXT  text, or a number as its decimal text (a code); text UTF-8 cannot encode (a lone surrogate) is
               flagged; in a name column (the spec's ``names``) a number is flagged too, never stored as the name
JSON           any JSON value, stored as JSON text
=============  ==============================================================================================

A flagged value is stored as NULL in a row that still loads, with one quarantine record per (row, column) that
says so. Types come from the table spec, never from inference (X-3: legacy lost a whole table's insert when a
sparse field was null in its first 100 rows).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ingestion_core.db.tables import TableSpec
from ingestion_core.quarantine import QuarantineRecord, storable_text

_INT64 = (-(2**63), 2**63 - 1)
_TS_MAX = 253_402_300_799  # 9999-12-31 23:59:59, the last second a DATETIME holds
_EPOCH = datetime(1970, 1, 1)
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def dig(obj: object, path: tuple[str, ...]) -> object:
    """The value at ``path`` inside nested objects, None where any step is missing or not an object."""
    value = obj
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


class Converter:
    """Converts one entry's values for one table, adding a quarantine flag for each unusable value.

    Args:
        dataset: names the quarantine records.
        table: the target table (column types).
        key: the entry's key parts (quarantine record key).
        raw: the entry as received (quarantine payload).
        flags: where flags are appended.
        names: the text columns holding names (an instrument or currency symbol), where a number is not accepted.
    """

    def __init__(
        self,
        dataset: str,
        table: TableSpec,
        key: tuple[str, ...],
        raw: Mapping[str, Any],
        flags: list[QuarantineRecord],
        names: frozenset[str] = frozenset(),
    ) -> None:
        self._dataset = dataset
        self._table = table
        self._key = key
        self._raw = raw
        self._flags = flags
        self._names = names

    def flag(self, column: str, value: object, why: str) -> None:
        """Record that ``column``'s value was unusable and is stored as NULL."""
        reason = f"{self._table.name}.{column}: {why} ({storable_text(repr(value))[:200]}); stored as NULL"
        self._flags.append(QuarantineRecord.of(self._dataset, (*self._key, column), reason, self._raw))

    def row(self, fields: Mapping[str, tuple[str, ...]], entry: object) -> dict[str, object]:
        """Convert every ``column -> path`` of ``fields`` from ``entry``."""
        return {column: self.convert(column, dig(entry, path)) for column, path in fields.items()}

    def convert(self, column: str, value: object) -> object:
        """One value for ``column`` (see the module docstring for the rules)."""
        if value is None:
            return None
        kind = self._table.column(column).sql_type.split("(", 1)[0]
        if kind == "BOOLEAN":
            return self._bool(column, value)
        if kind in ("BIGINT", "INT"):
            return self._int(column, value)
        if kind == "DATETIME":
            return self._datetime(column, value)
        if kind == "DOUBLE":
            return self._float(column, value)
        if kind == "JSON":
            return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        return self._text(column, value)

    def _text(self, column: str, value: object) -> str | None:
        if isinstance(value, str):
            if storable_text(value) != value:
                self.flag(column, value, "not valid UTF-8 text")
                return None
            return value
        if type(value) in (int, float) and column not in self._names:
            return str(value)
        self.flag(column, value, "a number, not a name" if type(value) in (int, float) else "not text")
        return None

    def _bool(self, column: str, value: object) -> bool | None:
        text = str(value).lower() if type(value) in (bool, int, str) else None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        self.flag(column, value, "not a boolean")
        return None

    def _int(self, column: str, value: object) -> int | None:
        if (type(value) is float and value.is_integer()) or (
            type(value) is str and value.strip().lstrip("-").isdigit()
        ):
            value = int(value)
        if type(value) is not int:
            self.flag(column, value, "not an integer")
            return None
        if not _INT64[0] <= value <= _INT64[1]:
            self.flag(column, value, "does not fit BIGINT")
            return None
        return value

    def _float(self, column: str, value: object) -> float | None:
        if type(value) in (int, float):
            number = float(value)  # type: ignore[arg-type]
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = math.nan
        else:
            number = math.nan
        if not math.isfinite(number):
            self.flag(column, value, "not a finite number")
            return None
        return number

    def _datetime(self, column: str, value: object) -> datetime | None:
        seconds = self._int(column, value)
        if seconds is None or seconds == 0:  # 0 means "never", as the API uses it
            return None
        if not -_TS_MAX <= seconds <= _TS_MAX:
            self.flag(column, value, "timestamp out of range")
            return None
        return _EPOCH + timedelta(seconds=seconds)


def unkeyable(dataset: str, key: tuple[str, ...], reason: str, value: object) -> QuarantineRecord:
    """The quarantine record of an entry that cannot be keyed (not an object, a key that is not text...)."""
    return QuarantineRecord.of(dataset, key, reason, {"entry": value})


def usable_key(value: object) -> str | None:
    """A key part as text, or None when it cannot key a row (empty, not encodable)."""
    text = str(value)
    return text if text and storable_text(text) == text else None
