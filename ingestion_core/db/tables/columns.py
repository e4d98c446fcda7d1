"""Column lists in the notation of the legacy table contract, ``tests/fixtures/legacy-tables.md``.

``name TYPE`` per column and ``!`` for NOT NULL.

Keeping the contract's own notation makes a review against the document a line-by-line comparison.
"""

from __future__ import annotations

from ingestion_core.db.tables.spec import Column


def parse_columns(text: str) -> tuple[Column, ...]:
    """Parse one column per line: ``name TYPE [!] [DEFAULT expr]``.

    Args:
        text: the column block.

    Returns:
        The columns in order.
    """
    columns: list[Column] = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        default = None
        if " DEFAULT " in line:
            line, default = (part.strip() for part in line.split(" DEFAULT ", 1))
        nullable = not line.endswith("!")
        name, sql_type = line.rstrip("!").split()
        columns.append(Column(name, sql_type, nullable, default))
    return tuple(columns)


def join_columns(*parts: tuple[Column, ...]) -> tuple[Column, ...]:
    """Concatenate column blocks."""
    return tuple(c for part in parts for c in part)


#: Columns holding the time a run wrote a row, never a fact from the API: two runs cannot agree on them (X-7).
WALL_CLOCK_NAMES = frozenset(
    {"created_at", "updated_at", "api_data_retrieved_datetime", "collected_at", "last_seen", "mapped_at"}
)

WALL_CLOCK = parse_columns(
    """
    created_at DATETIME !
    updated_at DATETIME !
    """
)

SERIES_HEAD = parse_columns(
    """
    datetime DATETIME !
    market VARCHAR(255) !
    instrument VARCHAR(255) !
    mapped_instrument VARCHAR(255)
    type VARCHAR(255)
    index_underlying VARCHAR(255)
    quote_currency VARCHAR(255)
    settlement_currency VARCHAR(255)
    contract_currency VARCHAR(255)
    denomination_type VARCHAR(255)
    """
)

COLLECTED_AT = parse_columns("collected_at DATETIME DEFAULT CURRENT_TIMESTAMP")
COLLECTED_AT_NOT_NULL = parse_columns("collected_at DATETIME ! DEFAULT CURRENT_TIMESTAMP")
