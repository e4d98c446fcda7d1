"""Classifying legacy -> shadow differences: every rule of the table, and what stays unexpected."""

from __future__ import annotations

from datetime import datetime

import pytest

from ingestion_core.db.tables import get_table
from ingestion_core.shadow import rules
from ingestion_core.shadow.diff import DUPLICATES, compare_rows

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 1)


@pytest.mark.parametrize(
    ("column", "sql_type", "legacy", "shadow", "expected"),
    [
        ("close", "DOUBLE", 1.0, 1.0 + 1e-12, rules.EQUAL),
        ("close", "DOUBLE", 1.0, 1.0001, None),
        ("close", "DOUBLE", float("nan"), float("nan"), rules.EQUAL),
        ("first_trade_timestamp", "DATETIME", "0000-00-00 00:00:00", None, rules.ZERO_DATE),
        ("first_trade_timestamp", "DATETIME", datetime(1970, 1, 1), None, rules.ZERO_DATE),
        ("first_trade_timestamp", "DATETIME", T, None, None),  # a real date lost: unexpected
        ("quote", "VARCHAR(255)", "", None, rules.ZERO_VALUE),
        ("total_trades", "BIGINT", 0, None, rules.ZERO_VALUE),
        ("has_trades", "BOOLEAN", 0, 1, rules.BOOLEAN_FIXED),
        ("has_trades", "BOOLEAN", 1, 0, None),  # true -> false is not a legacy defect
        ("has_trades", "BOOLEAN", 1, True, rules.EQUAL),
        ("number_of_contracts", "BIGINT", 7328290, 7328289, rules.CONTRACTS_ROUNDED),
        ("number_of_contracts", "BIGINT", 7328300, 7328289, None),
        ("first_message_timestamp", "BIGINT", 2024, 1_706_745_600, rules.YEAR_CAST),
        ("first_message_timestamp", "BIGINT", 1_706_745_600, 1_706_745_601, None),
        ("description", "TEXT", "a path C:dir", "a path C:\\dir", rules.BACKSLASHES),
        ("description", "TEXT", "old text", "new text", None),
        ("close", "DOUBLE", None, 3.5, None),  # the shadow has data the legacy did not store
    ],
)
def test_classify(column: str, sql_type: str, legacy: object, shadow: object, expected: str | None) -> None:
    assert rules.classify(column, sql_type, legacy, shadow, 1e-9) == expected


def test_every_intended_rule_is_in_the_docstring_table() -> None:
    assert rules.__doc__ is not None
    for rule in rules.INTENDED:
        assert f"``{rule}``" in rules.__doc__


def test_diff_counts_duplicates_keys_on_one_side_and_columns() -> None:
    spec = get_table("market.cc_assets")
    columns = ["asset_id", "symbol", "name", "updated_at"]
    legacy = [
        (1, "BTC", "Bitcoin", datetime(2026, 1, 1)),
        (1, "BTC", "Bitcoin old", datetime(2025, 1, 1)),  # an older copy the REPLACE-as-insert left
        (2, "ETH", "", datetime(2026, 1, 1)),
        (3, "XRP", "Ripple", datetime(2026, 1, 1)),
        (4, "GONE", "Gone", datetime(2026, 1, 1)),
    ]
    shadow = [
        (1, "BTC", "Bitcoin", datetime(2026, 2, 1)),
        (2, "ETH", None, datetime(2026, 2, 1)),
        (3, "XRP", "XRP Ledger", datetime(2026, 2, 1)),
        (5, "NEW", "New", datetime(2026, 2, 1)),
    ]
    report = compare_rows(spec, columns, legacy, shadow)
    assert (report.legacy_rows, report.shadow_rows, report.compared) == (5, 4, 3)
    assert report.intended == {DUPLICATES: 1, "name: zero value -> NULL": 1}  # the newest BTC copy was compared
    assert report.unexpected == {"name": 1, "only in legacy": 1, "only in shadow": 1}
    assert {"key": [3], "column": "name", "legacy": "Ripple", "shadow": "XRP Ledger"} in report.examples
    assert report.unexpected_total == 3 and report.intended_total == 2
    assert "updated_at" not in report.unexpected  # wall clocks are never compared
