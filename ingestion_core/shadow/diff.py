"""Compare one table's legacy rows with its shadow rows (pure): keys on one side only, duplicates, per-column changes.

Every difference falls in one of three classes:

=============  ==========================================================================  ==================
class          what                                                                          fails the check
=============  ==========================================================================  ==================
intended       a legacy defect fixed on purpose (``shadow.rules``), legacy duplicates
               collapsed (X-4), rows the new discovery adds on purpose (F-5, S-1)            no
drift          a live snapshot's columns (counters, last-update times) declared per table
               (``TableSpec.shadow.drift``): two snapshots minutes apart differ there          no
unexpected     everything else: a row on one side only, a value nothing explains, a key
               the shadow holds twice                                                        yes
=============  ==========================================================================  ==================

Rows are matched on the table's primary key. The legacy side may hold several rows per key (tables whose key the
old de-duplication dropped, X-4): the surplus copies are counted as the intended ``duplicates collapsed`` change and
the newest copy (by the last wall-clock column, else the last read) is compared. Wall-clock columns
(``collected_at``, ``updated_at``...) are never compared: two runs cannot write the same instant (X-7). A table
declared ``counts_by`` (the usage log, stamped with the time each row was written) is compared as its number of rows
per day and per those columns (:func:`compare_counts`).
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
SHADOW_DUPLICATES = "key stored twice in the shadow"
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
        drift: per declared live column, how many values differ (snapshots taken at different moments).
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
    drift: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)
    missing_columns: tuple[str, ...] = ()
    error: str = ""

    @property
    def intended_total(self) -> int:
        """Differences explained by a documented legacy defect."""
        return sum(self.intended.values())

    @property
    def drift_total(self) -> int:
        """Differences in live snapshot columns (reported, never a failure)."""
        return sum(self.drift.values())

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
            "drift": dict(sorted(self.drift.items())),
            "unexpected": dict(sorted(self.unexpected.items())),
            "intended_total": self.intended_total,
            "drift_total": self.drift_total,
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

    A table declared ``newest_per`` compares each side's newest row per those columns, matched on them.
    """
    report = TableReport(
        spec.qualified_name,
        legacy_rows=len(legacy),
        shadow_rows=len(shadow),
        missing_columns=tuple(c for c in spec.column_names if c not in columns),
    )
    position = {name: i for i, name in enumerate(columns)}
    match_on = spec.shadow.newest_per or spec.primary_key
    if spec.shadow.newest_per:
        legacy, shadow = _newest(spec, position, legacy), _newest(spec, position, shadow)
    key_at = [position[k] for k in match_on]
    clock = [position[c] for c in columns if c in WALL_CLOCK_NAMES]
    compared = [c for c in columns if c not in WALL_CLOCK_NAMES and c not in match_on]

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
        key = key_of(row)
        if key in new:  # the shadow's table is keyed: a second copy means its key is missing there
            report.unexpected[SHADOW_DUPLICATES] += 1
            if len(report.examples) < EXAMPLES * 4:
                report.examples.append({"key": _plain(key), "difference": SHADOW_DUPLICATES})
        new[key] = row
    extra = spec.shadow.extra_rows
    only_shadow = new.keys() - old.keys()
    if extra is not None:
        column, values, why = extra
        if column in position:
            wanted = [k for k in only_shadow if new[k][position[column]] in values]
            report.intended[why] += len(wanted)
            only_shadow -= set(wanted)
    for side, keys in (("only in legacy", old.keys() - new.keys()), ("only in shadow", only_shadow)):
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
            if rule is None and name in spec.shadow.drift:
                report.drift[name] += 1
            elif rule is None:
                report.unexpected[name] += 1
                if len(report.examples) < EXAMPLES * 4:
                    report.examples.append(
                        {"key": _plain(key), "column": name, "legacy": _plain(before[i]), "shadow": _plain(after[i])}
                    )
            else:
                report.intended[f"{name}: {rule}"] += 1
    return report


def _newest(spec: TableSpec, position: dict[str, int], rows: Sequence[Row]) -> list[Row]:
    """Each ``newest_per`` group's row with the greatest time (text or datetime: both sort in time order)."""
    at = [position[c] for c in spec.shadow.newest_per]
    time = position[spec.time_column or ""]
    newest: dict[Row, Row] = {}
    for row in rows:
        group = tuple(row[i] for i in at)
        seen = newest.get(group)
        if seen is None or str(row[time]) >= str(seen[time]):
            newest[group] = row
    return list(newest.values())


def compare_counts(
    spec: TableSpec, columns: Sequence[str], legacy: Sequence[Row], shadow: Sequence[Row]
) -> TableReport:
    """Compare the number of rows per day (of the time column) and per ``spec.shadow.counts_by`` columns.

    A group whose counts differ is unexpected, counted once per row of difference (``count per day``); the examples
    name the group and both counts.
    """
    report = TableReport(spec.qualified_name, legacy_rows=len(legacy), shadow_rows=len(shadow))
    position = {name: i for i, name in enumerate(columns)}
    if spec.time_column is None or any(c not in position for c in (spec.time_column, *spec.shadow.counts_by)):
        report.error = f"columns {spec.shadow.counts_by} and the time column are needed to count rows"
        return report
    at = [position[c] for c in spec.shadow.counts_by]
    key_at = [position[k] for k in spec.primary_key if k in position]
    unique: dict[Row, Row] = {}
    for row in legacy:  # legacy copies of one key are one record
        key = tuple(row[i] for i in key_at)
        if key in unique:
            report.intended[DUPLICATES] += 1
        unique[key] = row
    legacy = list(unique.values())

    def groups(rows: Sequence[Row]) -> Counter[Row]:
        return Counter((str(row[position[spec.time_column or ""]])[:10], *(row[i] for i in at)) for row in rows)

    before, after = groups(legacy), groups(shadow)
    for group in sorted(before.keys() | after.keys(), key=repr):
        report.compared += 1
        if before[group] != after[group]:
            report.unexpected["count per day"] += abs(before[group] - after[group])
            if len(report.examples) < EXAMPLES * 4:
                report.examples.append(
                    {"day and group": _plain(group), "legacy": before[group], "shadow": after[group]}
                )
    return report


def _plain(value: object) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)
