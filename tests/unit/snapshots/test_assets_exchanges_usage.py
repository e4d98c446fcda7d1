"""Assets (eight tables), exchanges general (Min API) and API usage: frames typed by their tables."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ingestion_core.db.tables import get_table, polars_schema
from ingestion_core.snapshots import SNAPSHOTS
from ingestion_core.snapshots.api_usage import USE_CASE, ApiUsageParameters, data_api_values, min_api_values
from ingestion_core.snapshots.assets import AssetsParameters
from ingestion_core.snapshots.exchanges_general import ExchangesGeneralParameters
from ingestion_core.snapshots.spec import Fetched
from tests.unit.datasets.fixture_files import load_fixture

pytestmark = pytest.mark.unit

RUN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
RUN_NAIVE = datetime(2026, 1, 2, 3, 4, 5)


def _asset() -> dict[str, Any]:
    item: dict[str, Any] = copy.deepcopy(load_fixture("asset_top_list_docexample_trimmed.json")["Data"]["LIST"][0])
    item.update(
        ASSET_INDUSTRIES=[{"ASSET_INDUSTRY": "PAYMENT", "JUSTIFICATION": "used to pay"}],
        CONSENSUS_MECHANISMS=[{"NAME": "PROOF_OF_WORK"}],
        CONSENSUS_ALGORITHM_TYPES=[{"NAME": "SHA256", "DESCRIPTION": "hash"}],
        HASHING_ALGORITHM_TYPES=[{"NAME": "SHA256"}],
        PREVIOUS_ASSET_SYMBOLS=[{"SYMBOL": "XBT"}, None, ["A", "B"], 7],
        ASSET_ALTERNATIVE_IDS=[
            {"NAME": "CMC", "ID": "1"},
            {"NAME": "CG", "ID": "bitcoin"},
            {"NAME": "NOPE", "ID": "x"},
        ],
    )
    return item


def test_the_fixture_asset_fills_all_eight_tables() -> None:
    spec = SNAPSHOTS["asset_metadata"]
    parsed = spec.parse(Fetched([_asset()]), AssetsParameters(), RUN)
    assert parsed.quarantined == []
    for table in spec.tables:
        assert parsed.frames[table.qualified_name].schema == polars_schema(table), table.name
    asset = parsed.frames["market.cc_assets"].row(0, named=True)
    assert (asset["asset_id"], asset["symbol"], asset["name"], asset["cc_internal_type"]) == (
        1,
        "BTC",
        "Bitcoin",
        "162",
    )
    assert asset["launch_date"] == datetime(2009, 1, 3)
    assert asset["public_notice"] is None  # absent: NULL, typed by the table, not an inferred column
    ids = parsed.frames["market.cc_asset_alternative_ids"].row(0, named=True)
    assert (ids["cmc_id"], ids["cg_id"], ids["isin_id"]) == ("1", "bitcoin", None)
    previous = parsed.frames["market.cc_asset_previous_symbols_map"].get_column("previous_symbol").to_list()
    assert previous == ["XBT", '["A", "B"]', "7"]  # a null element is skipped (legacy stored the text "None")
    market = parsed.frames["market.cc_asset_market_data"].row(0, named=True)
    assert market["snapshot_ts"] == datetime(2025, 6, 6, 3, 36, 13)
    assert market["price_usd"] == 102564.643975363
    assert parsed.frames["market.cc_asset_industries_map"].row(0)[:3] == (1, "PAYMENT", "used to pay")


def test_an_asset_without_a_snapshot_time_keeps_its_rows_but_not_a_market_data_row() -> None:
    item = _asset()
    del item["PRICE_USD_LAST_UPDATE_TS"]
    parsed = SNAPSHOTS["asset_metadata"].parse(Fetched([item]), AssetsParameters(), RUN)
    assert parsed.frames["market.cc_asset_market_data"].height == 0
    assert parsed.frames["market.cc_assets"].height == 1
    assert [q.reason for q in parsed.quarantined] == ["no PRICE_USD_LAST_UPDATE_TS: no snapshot time"]


def test_exchanges_general_documented_entry() -> None:
    body = load_fixture("minapi_exchanges_general_documented.json")
    spec = SNAPSHOTS["exchanges_general"]
    parsed = spec.parse(Fetched(body["Data"]), ExchangesGeneralParameters(), RUN)
    assert parsed.quarantined == []
    frame = parsed.frames["market.cc_exchanges_general"]
    assert frame.schema == polars_schema(get_table("market.cc_exchanges_general"))
    row = frame.row(0, named=True)
    assert (row["exchange_api_id"], row["internal_name"], row["grade"]) == ("2431", "Binance", "AA")
    assert json.loads(str(row["item_types"])) == ["Cryptocurrency", "Stable Coins"]
    assert (row["has_orderbook"], row["has_trades"], row["is_sponsored"], row["is_recommended"]) == (
        True,
        True,
        False,
        True,
    )  # legacy stored 0 for all four (E-2)
    assert (row["sort_order"], row["rating_total_users"], row["total_volume_24h_usd"]) == (1, 215, 14895823466.25)
    assert row["grade_points_security"] == 16.5 and row["created_at"] == RUN_NAIVE


def test_exchanges_general_null_objects_do_not_abort() -> None:
    body = load_fixture("minapi_exchanges_general_documented.json")
    body["Data"]["2431"].update(Rating=None, GradePointsSplit=None, ItemType=None)
    parsed = SNAPSHOTS["exchanges_general"].parse(Fetched(body["Data"]), ExchangesGeneralParameters(), RUN)
    row = parsed.frames["market.cc_exchanges_general"].row(0, named=True)
    assert row["rating_avg"] is None and row["grade_points_legal"] is None and row["item_types"] is None
    assert parsed.quarantined == []


def test_api_usage_rows_from_both_apis() -> None:
    data = load_fixture("admin_v2_rate_limit_docexample.json")["Data"]
    values = data_api_values(data)
    assert (values["api_key_used_day"], values["api_key_max_month"], values["auth_key_remaining_second"]) == (
        2141,
        50_000_000,
        20,
    )
    minapi = min_api_values(load_fixture("minapi_stats_rate_limit_2021.json")["Data"])
    assert (minapi["api_key_used_hour"], minapi["api_key_remaining_hour"], minapi["api_key_max_hour"]) == (
        7,
        2993,
        3000,
    )
    spec = SNAPSHOTS["api_usage"]
    parsed = spec.parse(Fetched({USE_CASE: data}), ApiUsageParameters(), RUN)
    (row,) = parsed.frames["market.cc_rate_limit_status"].iter_rows(named=True)
    assert (row["timestamp"], row["use_case"], row["record_timing"]) == (RUN_NAIVE, "record_api_usage", "hourly")
    assert row["api_key_used_month"] == 9894 and row["auth_key_max_second"] == 20
