"""Plain-text tables for terminal summaries (run summaries, dry-run plans, coverage)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime


def render_table(rows: Sequence[Mapping[str, object]], columns: Sequence[str] | None = None) -> str:
    """Render rows as an aligned text table with a header and a rule; numbers are right-aligned.

    Args:
        rows: one mapping per row.
        columns: the columns to show, in order (default: the keys of the first row).

    Returns:
        The table as text, or ``(no rows)``.
    """
    if not rows:
        return "(no rows)"
    cols = list(columns) if columns is not None else list(rows[0].keys())
    cells = [["" if row.get(c) is None else str(row.get(c)) for c in cols] for row in rows]
    numeric = [all(isinstance(row.get(c), int | float) for row in rows if row.get(c) is not None) for c in cols]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(cols), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def format_ts(ts: int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format Unix seconds as UTC text (empty for None)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime(fmt)
