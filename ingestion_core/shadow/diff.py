"""Compare one table's legacy rows with its shadow rows (pure): keys on one side only, duplicates, per-column changes.

Rows are matched on the table's primary key. The legacy side may hold several rows per key (tables whose key the
old de-duplication dropped, X-4): the surplus copies are counted as the intended ``duplicates collapsed`` change and
the newest copy (by the last wall-clock column, else the last read) is compared. Wall-clock columns
(``collected_at``, ``updated_at``...) are never compared: two runs cannot write the same instant (X-7).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion_core.db.tables import TableSpec
from ingestion_core.db.tables.columns import WALL_CLOCK_NAMES
from ingestion_core.shadow.rules import EQUAL, classify

DUPLICATES = "duplicates collapsed"
EXAMPLES = 5

Row = tuple[Any, ...]


@dataclass
class TableReport:
    """The comparison of one table.

    Attributes:
        table: its qualified name.
        legacy_rows: rows read from the legacy table.
        shadow_rows: rows read from the shadow table.
        compared: keys present on both sides.
        intended: per rule (``column: rule`` or ``duplicates collapsed``), how many values it explains.
        unexpected: per column (or ``only in legacy`` / ``only in shadow``), how many differences nothing explains.
        examples: a few unexpected differences, each with its key and both values.
        missing_columns: columns of the table spec the legacy table does not have (not compared).
        error: why the table could not be compared at all (missing table...).
    """

    table: str
    legacy_rows: int = 0
    shadow_rows: int = 0
    compared: int = 0
    intended: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)
    missing_columns: tuple[str, ...] = ()
    error: str = ""

    @property
    def intended_total(self) -> int:
        """Differences explained by a documented legacy defect."""
        return sum(self.intended.values())

    @property
    def unexpected_total(self) -> int:
        """Differences nothing explains (an error counts as one)."""
        return sum(self.unexpected.values()) + (1 if self.error else 0)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for ``--json`` and the artifact."""
        return {
            "table": self.table,
            "legacy_rows": self.legacy_rows,
            "shadow_rows": self.shadow_rows,
            "compared": self.compared,
            "intended": dict(sorted(self.intended.items())),
            "unexpected": dict(sorted(self.unexpected.items())),
            "intended_total": self.intended_total,
            "unexpected_total": self.unexpected_total,
            "examples": self.examples,
            "missing_columns": list(self.missing_columns),
            "error": self.error,
        }


def compare_rows(
    spec: TableSpec,
    columns: Sequence[str],
    legacy: Sequence[Row],
    shadow: Sequence[Row],
    *,
    tolerance: float = 1e-9,
) -> TableReport:
    """Compare the rows of one table (both sides read with ``columns``, which include the primary key).

    Args:
        spec: the table.
        columns: the column of each row position.
        legacy: the legacy rows.
        shadow: the shadow rows.
        tolerance: relative tolerance for DOUBLE columns.
    """
    report = TableReport(
        spec.qualified_name,
        legacy_rows=len(legacy),
        shadow_rows=len(shadow),
        missing_columns=tuple(c for c in spec.column_names if c not in columns),
    )
    position = {name: i for i, name in enumerate(columns)}
    key_at = [position[k] for k in spec.primary_key]
    clock = [position[c] for c in columns if c in WALL_CLOCK_NAMES]
    compared = [c for c in columns if c not in WALL_CLOCK_NAMES and c not in spec.primary_key]

    def key_of(row: Row) -> Row:
        return tuple(row[i] for i in key_at)

    old: dict[Row, Row] = {}
    for row in legacy:
        key = key_of(row)
        if key in old:
            report.intended[DUPLICATES] += 1
            if not clock or tuple(row[i] for i in clock) >= tuple(old[key][i] for i in clock):
                old[key] = row
        else:
            old[key] = row
    new: dict[Row, Row] = {}
    for row in shadow:
        new[key_of(row)] = row
    for side, keys in (("only in legacy", old.keys() - new.keys()), ("only in shadow", new.keys() - old.keys())):
        if keys:
            report.unexpected[side] += len(keys)
            for key in sorted(keys, key=repr)[:EXAMPLES]:
                report.examples.append({"key": _plain(key), "difference": side})
    for key in old.keys() & new.keys():
        report.compared += 1
        before, after = old[key], new[key]
        for name in compared:
            i = position[name]
            rule = classify(name, spec.column(name).sql_type, before[i], after[i], tolerance)
            if rule == EQUAL:
                continue
            if rule is None:
                report.unexpected[name] += 1
                if len(report.examples) < EXAMPLES * 4:
                    report.examples.append(
                        {"key": _plain(key), "column": name, "legacy": _plain(before[i]), "shadow": _plain(after[i])}
                    )
            else:
                report.intended[f"{name}: {rule}"] += 1
    return report


def _plain(value: object) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)
