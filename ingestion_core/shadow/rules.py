"""How one value that differs between a legacy row and its shadow is classified: an intended change, or unexpected.

Pure: a pair of values (as the driver reads them from the legacy and the shadow table) and the column's declared
type in, a rule name or None out. The intended changes are the legacy defects this pipeline fixes on purpose
(docs/field-mapping.md, ids in the last column); everything else is unexpected and fails the comparison.

| rule | legacy value | shadow value | columns | defect |
|---|---|---|---|---|
| ``equal`` | x | x (floats: within the tolerance) | any | |
| ``zero date -> NULL`` | the zero date (text ``0000-00-00 ...``) or 1970-01-01 00:00:00 | NULL | DATETIME | X-1 |
| ``zero value -> NULL`` | 0 or ``''`` | NULL | numbers, text, BOOLEAN | X-1 |
| ``boolean 0 -> true`` | 0 | 1 (true) | BOOLEAN | S-2, E-2, X-2 |
| ``contracts rounded`` | an integer | rounded half-to-even: at most 1 apart | ``number_of_contracts`` | F-7 |
| ``datetime text cast to BIGINT`` | a year (cast of ISO text) | Unix seconds | ``*_message_timestamp`` | IX-1 |
| ``backslashes kept`` | text without backslashes | the same text with them | text, JSON | X-5 |

A NULL on the legacy side against a value in the shadow is unexpected (the new pipeline found data the old one did
not store); so is any other pair.
"""

from __future__ import annotations

import math
from datetime import datetime

EQUAL = "equal"
ZERO_DATE = "zero date -> NULL"
ZERO_VALUE = "zero value -> NULL"
BOOLEAN_FIXED = "boolean 0 -> true"
CONTRACTS_ROUNDED = "contracts rounded"
YEAR_CAST = "datetime text cast to BIGINT"
BACKSLASHES = "backslashes kept"

#: The rules in the order they are tried (each one is a documented legacy defect).
INTENDED = (ZERO_DATE, ZERO_VALUE, BOOLEAN_FIXED, CONTRACTS_ROUNDED, YEAR_CAST, BACKSLASHES)
_EPOCH = datetime(1970, 1, 1)
_SECONDS_FROM, _SECONDS_TO = 10**8, 2**33  # Unix seconds from 1973 to 2242: not a year
_MESSAGE_TIMESTAMP = "_message_timestamp"


def classify(column: str, sql_type: str, legacy: object, shadow: object, tolerance: float) -> str | None:
    """The rule that explains ``legacy`` -> ``shadow`` in ``column``, :data:`EQUAL`, or None when nothing does.

    Args:
        column: the column's name (two rules are about one column each).
        sql_type: its declared type (``DATETIME``, ``BIGINT``, ``DOUBLE``, ``BOOLEAN``, ``VARCHAR(n)``...).
        legacy: the value read from the legacy table.
        shadow: the value read from the shadow table.
        tolerance: relative tolerance for DOUBLE columns (``abs(a - b) <= tolerance * max(abs(a), abs(b))``).
    """
    if _same(sql_type, legacy, shadow, tolerance):
        return EQUAL
    if shadow is None:
        if sql_type == "DATETIME" and _is_zero_date(legacy):
            return ZERO_DATE
        if legacy in (0, "", False):
            return ZERO_VALUE
        return None
    if sql_type == "BOOLEAN" and legacy in (0, False) and shadow in (1, True):
        return BOOLEAN_FIXED
    if column == "number_of_contracts" and _numbers(legacy, shadow):
        return CONTRACTS_ROUNDED if abs(float(legacy) - float(shadow)) <= 1 else None  # type: ignore[arg-type]
    if column.endswith(_MESSAGE_TIMESTAMP) and _numbers(legacy, shadow):
        year, seconds = float(legacy), float(shadow)  # type: ignore[arg-type]
        return YEAR_CAST if 1970 <= year <= 2200 and _SECONDS_FROM <= seconds < _SECONDS_TO else None
    if isinstance(legacy, str) and isinstance(shadow, str) and "\\" in shadow and shadow.replace("\\", "") == legacy:
        return BACKSLASHES
    return None


def _same(sql_type: str, legacy: object, shadow: object, tolerance: float) -> bool:
    if legacy is None or shadow is None:
        return legacy is None and shadow is None
    if sql_type == "DOUBLE" and _numbers(legacy, shadow):
        a, b = float(legacy), float(shadow)  # type: ignore[arg-type]
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= tolerance * max(abs(a), abs(b))
    if sql_type == "BOOLEAN":
        return bool(legacy) == bool(shadow)
    return legacy == shadow


def _numbers(*values: object) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _is_zero_date(value: object) -> bool:
    if isinstance(value, str):  # read as text (``db.compare``): the driver would read the zero date as None
        return value.startswith(("0000-00-00", "1970-01-01 00:00:00"))
    return value == _EPOCH
