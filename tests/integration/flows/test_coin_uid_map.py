"""The asset -> coin_uid map flow on MariaDB and a real Prefect server, against a test coin registry.

The registry is a ``coins`` table in a schema of its own (as ``production.coins`` is another system's), named by
``COINS_TABLE``; the assets come from the asset metadata flow against the simulator, then a few are edited so every
match type, a tie and an unmatched asset occur.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import polars as pl
import pytest

from flows._coin_uid_map import asset_coin_uid_map
from flows.asset_metadata import asset_metadata
from ingestion_core.coin_uid import CoinMapOutcome
from ingestion_core.db import open_warehouse
from ingestion_core.db.tables.assets import ASSET_ALTERNATIVE_IDS, ASSETS
from ingestion_core.errors import ConfigurationError
from tests.integration.flows.conftest import FlowEnv, artifact_rows, run_flow
from tests.plugin_db import server_sql, throwaway_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MAP = "market.cc_asset_coin_uid_map"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty coin registry in its own schema; ``COINS_TABLE`` points at it."""
    with throwaway_database("t_registry_") as schema:
        server_sql(
            f"CREATE TABLE `{schema}`.coins (coin_uid VARCHAR(64) PRIMARY KEY, ticker VARCHAR(32), name VARCHAR(255), "
            "coingecko_id VARCHAR(255), coinmarketcap_id VARCHAR(255))"
        )
        monkeypatch.setenv("COINS_TABLE", f"{schema}.coins")
        yield schema


def _assets(env: FlowEnv) -> pl.DataFrame:
    async def read() -> pl.DataFrame:
        async with open_warehouse(env.database) as wh:
            assets = await wh.select(ASSETS, ["asset_id", "symbol", "name"])
            ids = await wh.select(ASSET_ALTERNATIVE_IDS, ["asset_id", "cg_id", "cmc_id"])
        return assets.join(ids, on="asset_id", how="left").sort("asset_id")

    return asyncio.run(read())


def test_every_asset_is_matched_by_the_legacy_rules_and_ties_and_misses_are_reported(
    flow_env: FlowEnv, registry: str
) -> None:
    assert run_flow(asset_metadata).is_completed()
    assets = _assets(flow_env).rows(named=True)
    assert len(assets) >= 5
    a, b, c, d, e, *_ = assets
    coins = [
        ("uid-cg", "NOPE1", "Unrelated One", a["cg_id"] or "cg-of-a", None),
        ("uid-sym", b["symbol"], "Unrelated Two", None, None),
        ("uid-sym-twin", b["symbol"], "Unrelated Three", None, None),  # a tie on the ticker
        ("uid-name", "NOPE2", f" {str(c['name']).upper()} ", None, None),
        ("uid-fuzzy", "NOPE3", f"{d['name']}xx", None, None),
    ]
    server_sql(
        f"INSERT INTO `{registry}`.coins VALUES "
        + ", ".join("(" + ", ".join("NULL" if v is None else repr(str(v)) for v in coin) + ")" for coin in coins)
    )
    if not a["cg_id"]:
        server_sql(f"UPDATE `{flow_env.database.name}`.cc_asset_alternative_ids SET cg_id = 'cg-of-a' "
                   f"WHERE asset_id = {a['asset_id']}")  # fmt: skip
    state = run_flow(asset_coin_uid_map)
    assert state.is_completed(), state.message
    outcome = state.result()
    assert isinstance(outcome, CoinMapOutcome)
    print(f"coin map: {outcome.headline()}; unmatched e.g. {outcome.unmatched[:3]}; ambiguous {outcome.ambiguous}")
    stored = {r["asset_id"]: r for r in flow_env.table(MAP, ["asset_id"]).rows(named=True)}
    assert (stored[a["asset_id"]]["coin_uid"], stored[a["asset_id"]]["match_type"]) == ("uid-cg", "coingecko_id")
    assert (stored[b["asset_id"]]["coin_uid"], stored[b["asset_id"]]["match_type"]) == ("uid-sym", "symbol")
    assert (stored[c["asset_id"]]["coin_uid"], stored[c["asset_id"]]["match_type"]) == ("uid-name", "name")
    fuzzy = stored[d["asset_id"]]
    assert (fuzzy["coin_uid"], fuzzy["match_type"]) == ("uid-fuzzy", "fuzzy_name") and 0.85 <= fuzzy["match_score"] < 1
    assert e["asset_id"] not in stored  # unmatched assets are reported, not written
    assert outcome.by_type["unmatched"] == len(assets) - 4 == len(outcome.unmatched)
    assert [x.split(":")[0] for x in outcome.ambiguous] == [f"{b['symbol']} ({b['asset_id']})"]
    rows = asyncio.run(artifact_rows("asset-coin-uid-map-summary"))
    assert {r["match_type"]: int(str(r["assets"])) for r in rows}["ambiguous"] == 1
    assert outcome.inserted == 4

    again = run_flow(asset_coin_uid_map).result()
    assert (again.inserted, again.changed, again.unchanged) == (0, 0, 4)  # nothing rewritten
    server_sql(f"DELETE FROM `{registry}`.coins WHERE coin_uid = 'uid-sym'")
    moved = run_flow(asset_coin_uid_map).result()
    assert (moved.changed, moved.unchanged, moved.ambiguous) == (1, 3, [])  # b now maps to its twin, alone
    assert flow_env.table(MAP, ["asset_id"]).filter(pl.col("asset_id") == b["asset_id"])["coin_uid"][0] == (
        "uid-sym-twin"
    )


def test_a_missing_coin_registry_is_one_clear_error(flow_env: FlowEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_flow(asset_metadata).is_completed()
    monkeypatch.setenv("COINS_TABLE", "no_such_schema.coins")
    state = run_flow(asset_coin_uid_map.with_options(retries=0))
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, ConfigurationError)
    assert str(error).startswith("table no_such_schema.coins does not exist on ") and "set COINS_TABLE" in str(error)
