"""Which rows of a re-read window are new, which the API changed, which are as stored (pure).

Every incremental run reads a trailing window again because the API revises recent buckets (``datasets.spec``,
``DEFAULT_REVISION_BUCKETS``). Rewriting all of it would count every re-read row as "updated" whether or not a value
moved, so no run could tell how much the API revised, and would rewrite rows for nothing. :func:`split_changes`
compares the answer with the rows stored for the same keys, column by column (nulls equal nulls; values the run sets
itself, ``collected_at`` and ``created_at``, are not compared), and keeps only new and changed rows for writing.

==================  ==============================  =======================
row of the answer   stored row with its key         counted as, written
==================  ==============================  =======================
any                 none                            inserted, written
any                 some compared value differs     changed, written
any                 every compared value equal      unchanged, not written
==================  ==============================  =======================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ingestion_core.db.tables import TableSpec


@dataclass(frozen=True, slots=True)
class Changes:
    """An answer's rows against what is stored.

    Attributes:
        write: the new and changed rows (the answer's columns, its order).
        inserted: rows whose key is not stored.
        changed: rows whose key is stored with a different value in some compared column.
        unchanged: rows stored exactly so (not written).
        revised: per changed row, its time and the columns that changed (``revised`` -> ``ingest_revisions``).
    """

    write: pl.DataFrame
    inserted: int = 0
    changed: int = 0
    unchanged: int = 0
    revised: tuple[tuple[int, str], ...] = field(default_factory=tuple)


def compared_columns(spec: TableSpec, columns: list[str]) -> list[str]:
    """The columns whose values say whether a row changed: not the key, not what the run sets itself."""
    own = {*spec.primary_key, *spec.refresh_columns, *spec.insert_only_columns}
    return [c for c in columns if c not in own]


def split_changes(spec: TableSpec, answer: pl.DataFrame, stored: pl.DataFrame) -> Changes:
    """Split an answer into inserted, changed and unchanged rows against the stored rows of the same keys.

    Args:
        spec: the table.
        answer: the parsed rows (the table's schema or part of it, unique on the key).
        stored: stored rows of (at least) the answer's keys, with the compared columns.

    Returns:
        What to write and the counts.
    """
    if answer.height == 0 or stored.height == 0:
        return Changes(write=answer, inserted=answer.height)
    key = list(spec.primary_key)
    compared = [c for c in compared_columns(spec, answer.columns) if c in stored.columns]
    theirs = stored.select([*key, *compared]).rename({c: f"{c}__stored" for c in compared})
    joined = answer.with_row_index("__row").join(theirs.with_columns(pl.lit(True).alias("__found")), on=key, how="left")
    differs = {c: ~pl.col(c).eq_missing(pl.col(f"{c}__stored")) for c in compared}
    flags = joined.select(
        pl.col("__row"),
        pl.col("__found").fill_null(False),
        *(expr.alias(f"__diff_{c}") for c, expr in differs.items()),
    )
    found = flags.get_column("__found")
    diff_cols = [f"__diff_{c}" for c in compared]
    any_diff = flags.select(pl.any_horizontal(diff_cols) if diff_cols else pl.lit(False)).to_series()
    keep = ~found | any_diff
    changed_mask = found & any_diff
    revised: list[tuple[int, str]] = []
    if changed_mask.any() and spec.time_column is not None:
        rows = flags.filter(changed_mask)
        times = joined.filter(changed_mask).get_column(spec.time_column).dt.epoch("s").to_list()
        for stamp, values in zip(times, rows.select(diff_cols).iter_rows(), strict=True):
            revised.append((int(stamp), ",".join(c for c, d in zip(compared, values, strict=True) if d)))
    order = flags.filter(keep).get_column("__row")
    return Changes(
        write=answer[sorted(order.to_list())] if not keep.all() else answer,
        inserted=int((~found).sum()),
        changed=int(changed_mask.sum()),
        unchanged=int((found & ~any_diff).sum()),
        revised=tuple(revised),
    )
