"""Table specs against the legacy contract (tests/fixtures/legacy-tables.md), key rules and the Polars mapping."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from ingestion_core.db.tables import TABLES, Column, TableSpec, get_table, polars_schema
from ingestion_core.errors import ConfigurationError

pytestmark = pytest.mark.unit

# The legacy table contract the tables must match (tests/fixtures/README.md).
CONTRACT = Path(__file__).resolve().parents[2] / "fixtures" / "legacy-tables.md"
# The contract's notes: cc_ohlcv_spot_1d_raw's *_trade_timestamp columns were converted BIGINT -> DATETIME
# ("treat DATETIME as current"), while the listing still says BIGINT.
SPOT_DATETIME = {"first_trade_timestamp", "last_trade_timestamp", "high_trade_timestamp", "low_trade_timestamp"}
OUT_OF_SCOPE: set[str] = set()
# Tables the pipeline adds (additive, never a legacy table): its bookkeeping and the Min API price history.
NEW_TABLES = {
    "market.ingest_quarantine",
    "market.ingest_holes",
    "market.ingest_revisions",
    "market.ingest_schema_version",
    "market.ingest_run_log",
    *(f"market.cc_crypto_prices_{interval}" for interval in ("1m", "1h", "1d")),
}
ADDED_KEYS = {
    "market.cc_assets": ("asset_id",),
    "market.cc_asset_market_data": ("asset_id", "snapshot_ts"),
    "market.cc_exchange_spot_details": ("exchange_internal_name",),
    "market.cc_exchanges_futures_details": ("exchange_internal_name",),
    "market.cc_rate_limit_status": ("timestamp", "use_case", "record_timing"),
    "market.cc_exchanges_general": ("exchange_api_id",),
}


def _contract() -> dict[str, tuple[list[tuple[str, str, bool]], str]]:
    text = CONTRACT.read_text(encoding="utf-8")  # checked in: a missing contract is a failure, never a skip
    tables = {}
    for m in re.finditer(r"## `([^`]+)`\n\n```\n(.*?)```\nKeys: ([^\n]*)", text, re.S):
        cols = []
        for line in m.group(2).strip().splitlines():
            head = line.split("[")[0].strip()
            nullable = not head.endswith("!")
            name, sql_type = head.rstrip("!").split()
            if m.group(1) == "market.cc_ohlcv_spot_1d_raw" and name in SPOT_DATETIME:
                sql_type = "DATETIME"
            cols.append((name, sql_type, nullable))
        tables[m.group(1)] = (cols, m.group(3))
    return tables


def test_contract_parses_all_26_tables() -> None:
    assert len(_contract()) == 26


def test_every_contract_table_has_a_spec_and_nothing_else_is_legacy() -> None:
    legacy = set(_contract()) - OUT_OF_SCOPE
    assert legacy <= set(TABLES)
    assert set(TABLES) - legacy == NEW_TABLES
    assert {name for name, spec in TABLES.items() if not spec.legacy} == NEW_TABLES


@pytest.mark.parametrize("name", sorted(set(TABLES) - NEW_TABLES))
def test_columns_types_and_nullability_match_the_contract(name: str) -> None:
    cols, keys = _contract()[name]
    spec = get_table(name)
    assert [(c.name, c.sql_type, c.nullable) for c in spec.columns] == cols
    if "PRIMARY KEY" in keys:
        declared = re.search(r"PRIMARY KEY \(([^)]*)\)", keys)
        assert declared is not None
        assert spec.primary_key == tuple(p.strip() for p in declared.group(1).split(","))
    else:
        assert spec.primary_key == ADDED_KEYS[name]


def test_exchanges_general_keeps_internal_name_unique_as_a_reference_table() -> None:
    spec = get_table("market.cc_exchanges_general")
    assert spec.unique_keys == (("internal_name",),)
    assert spec.reference and spec.shard_key == ()


def test_a_unique_key_without_the_shard_key_is_rejected() -> None:
    cols = (Column("a", "BIGINT", False), Column("b", "BIGINT", False))
    with pytest.raises(ConfigurationError, match="does not contain the shard key"):
        TableSpec("market", "t", cols, primary_key=("a",), shard_key=("b",))
    with pytest.raises(ConfigurationError, match="does not contain the shard key"):
        TableSpec("market", "t", cols, primary_key=("a", "b"), shard_key=("a",), unique_keys=(("b",),))


def test_bad_identifiers_and_types_are_rejected() -> None:
    with pytest.raises(ConfigurationError):
        Column("x'; DROP TABLE t; --", "BIGINT")
    with pytest.raises(ConfigurationError):
        Column("x", "BLOB")
    with pytest.raises(ConfigurationError):
        get_table("market.nope")


def test_polars_schema_maps_sql_types() -> None:
    schema = polars_schema(get_table("market.cc_instruments_futures"))
    assert schema["first_trade_datetime"] == pl.Datetime("us")
    assert schema["index_underlying_id"] == pl.Int64
    assert schema["has_trades"] == pl.Boolean
    assert schema["exchange_internal_name"] == pl.String
    assert polars_schema(get_table("market.cc_exchanges_general"))["item_types"] == pl.String
    assert polars_schema(get_table("market.cc_futures_ohlcv_1h"))["open"] == pl.Float64


def test_series_tables_know_interval_time_and_entities() -> None:
    spec = get_table("market.cc_futures_funding_rate_ohlc_1m")
    assert spec.interval == "1m"
    assert spec.order_columns == ("datetime", "market", "mapped_instrument")
    assert spec.entity_columns == ("market", "mapped_instrument")


def test_new_tables_are_keyed_from_the_start() -> None:
    for name in NEW_TABLES:
        assert get_table(name).primary_key
    prices = get_table("market.cc_crypto_prices_1h")
    assert prices.primary_key == ("datetime", "exchange", "fsym", "tsym") and prices.interval == "1h"


def test_tables_import_no_database_driver_and_no_polars() -> None:
    code = (
        "import sys, ingestion_core.db.tables, ingestion_core.db\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('singlestoredb', 'sqlite3', 'pymysql', 'polars')]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
