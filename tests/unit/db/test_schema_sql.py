"""DDL rendering: checked-in files are current, keys present per dialect, SQLite DDL applies."""

from __future__ import annotations

import sqlite3

import pytest

from ingestion_core.db import ddl
from ingestion_core.db.schema_sql import DIALECTS, Dialect, checked_in_path, create_table, render_schema
from ingestion_core.db.tables import TABLES, TableSpec, get_table

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("dialect", ["singlestore", "mysql"])
def test_checked_in_ddl_matches_the_renderer(dialect: Dialect) -> None:
    path = checked_in_path(dialect)
    assert path.exists(), "run: python -m ingestion_core.db.ddl --write"
    assert path.read_text(encoding="utf-8") == render_schema(dialect), (
        f"{path} is out of date: run python -m ingestion_core.db.ddl --write"
    )


def test_ddl_cli_check_passes_on_current_files() -> None:
    assert ddl.main(["--check"]) == 0


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("spec", list(TABLES.values()), ids=lambda s: s.name)
def test_ddl_contains_the_key(spec: TableSpec, dialect: Dialect) -> None:
    text = create_table(spec, dialect)
    q = '"' if dialect == "sqlite" else "`"
    assert "PRIMARY KEY (" + ", ".join(f"{q}{k}{q}" for k in spec.primary_key) + ")" in text
    assert ("SHARD KEY" in text) == (dialect == "singlestore" and bool(spec.shard_key))
    assert ("SORT KEY" in text) == (dialect == "singlestore" and bool(spec.sort_key))


def test_singlestore_renders_exchanges_general_as_reference_table_with_unique_internal_name() -> None:
    text = create_table(get_table("market.cc_exchanges_general"), "singlestore")
    assert text.startswith("CREATE REFERENCE TABLE")
    assert "UNIQUE KEY `uq_internal_name` (`internal_name`)" in text
    assert "ON UPDATE CURRENT_TIMESTAMP" in text
    assert "ON UPDATE" not in create_table(get_table("market.cc_exchanges_general"), "sqlite")


def test_key_columns_are_not_null_even_when_the_contract_omits_it() -> None:
    text = create_table(get_table("market.cc_futures_ohlcv_1h"), "mysql")
    assert "`mapped_instrument` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL" in text
    assert "`instrument` VARCHAR(255) NOT NULL" in text  # not a key column: the table's utf8mb4 default
    assert "`collected_at` DATETIME DEFAULT CURRENT_TIMESTAMP" in text


def test_sort_key_keeps_desc() -> None:
    text = create_table(get_table("market.cc_instruments_futures"), "singlestore")
    assert "SORT KEY (`exchange_internal_name`, `mapped_instrument_symbol`, `last_trade_datetime` DESC)" in text


def test_database_mapping_replaces_the_logical_schema() -> None:
    assert "CREATE TABLE IF NOT EXISTS `t_x`.`cc_assets`" in create_table(get_table("market.cc_assets"), "mysql", "t_x")


def test_sqlite_ddl_applies_for_every_table() -> None:
    conn = sqlite3.connect(":memory:")
    for spec in TABLES.values():
        conn.execute(create_table(spec, "sqlite"))
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {s.name for s in TABLES.values()}


@pytest.mark.parametrize(("dialect", "collation"), [("mysql", "utf8mb4_nopad_bin"), ("singlestore", "utf8mb4_bin")])
def test_key_text_columns_compare_exactly_and_the_charset_is_pinned(dialect: Dialect, collation: str) -> None:
    spec = get_table("market.cc_instruments_futures")
    text = create_table(spec, dialect)
    for column in ("exchange_internal_name", "mapped_instrument_symbol"):
        assert f"`{column}` VARCHAR(255) CHARACTER SET utf8mb4 COLLATE {collation} NOT NULL" in text
    assert "`index_underlying_symbol` VARCHAR(255)," in text
    assert (
        render_schema(dialect).splitlines()[2]
        == "CREATE DATABASE IF NOT EXISTS `market` DEFAULT CHARACTER SET utf8mb4;"
    )
    assert text.endswith(") DEFAULT CHARSET=utf8mb4") == (dialect == "mysql")
