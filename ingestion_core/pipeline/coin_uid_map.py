"""The ``asset_coin_uid_map`` run without Prefect: read the assets and the coin registry, match, write what changed.

Replaces the legacy ``scripts/asset_to_coin_uid_mapper.py`` (cron ``scheduling/ingest_asset_coin_uid_map.sh``): the
same match order (``ingestion_core.coin_uid``), the same table, but keyed and upserted (the legacy re-inserted every
mapping and relied on its copy-drop-rename de-duplication), ties reported instead of decided by query order, and a
missing registry one clear error. Matched assets are written (a mapping whose values did not change is left as it
is, so ``mapped_at`` says when it last changed); unmatched ones are reported, not written, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import polars as pl

from ingestion_core.coin_uid import COIN_COLUMNS, FUZZY_RATIO, Asset, Coin, CoinMapOutcome, Match, match_assets
from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.tables.assets import ASSET_ALTERNATIVE_IDS, ASSET_COIN_UID_MAP, ASSETS
from ingestion_core.errors import ConfigurationError
from ingestion_core.pipeline.changes import split_changes
from ingestion_core.settings import Settings


async def refresh_coin_uid_map(
    settings: Settings, *, fuzzy_ratio: float = FUZZY_RATIO, clock: Callable[[], float] = time.time
) -> CoinMapOutcome:
    """Match every asset of ``cc_assets`` to the registry and write the matched ones (see the module docstring).

    Raises:
        ConfigurationError: ``cc_assets`` is empty (run ``asset_metadata`` first), or the registry table or one of
            its columns does not exist (``COINS_TABLE``).
        DatabaseError: the warehouse is unreachable or the map table lacks its key.
    """
    table = ASSET_COIN_UID_MAP
    async with open_warehouse(settings.database) as warehouse:
        await warehouse.ensure_schema([ASSETS, ASSET_ALTERNATIVE_IDS, table])
        await warehouse.require_key(table)
        listed = await warehouse.select(ASSETS, ["asset_id", "symbol", "name"])
        if listed.height == 0:
            raise ConfigurationError(f"{ASSETS.qualified_name} is empty: run the asset_metadata flow first")
        alternative = await warehouse.select(ASSET_ALTERNATIVE_IDS, ["asset_id", "cg_id", "cmc_id"])
        rows = await warehouse.read_foreign(settings.ingestion.coins_table, COIN_COLUMNS, setting="COINS_TABLE")
        ids = {asset_id: (cg, cmc) for asset_id, cg, cmc in alternative.iter_rows()}
        assets = [
            Asset(asset_id, symbol, name, *ids.get(asset_id, (None, None)))
            for asset_id, symbol, name in listed.sort("asset_id").iter_rows()
        ]
        coins = [_coin(row) for row in rows if row[0] is not None]
        matches = match_assets(assets, coins, fuzzy_ratio=fuzzy_ratio)
        outcome = _outcome(assets, coins, matches)
        found = [m for m in matches if m.coin_uid is not None]
        now = datetime.fromtimestamp(int(clock()), UTC).replace(tzinfo=None)
        frame = pl.DataFrame(
            {
                "asset_id": [m.asset.asset_id for m in found],
                "symbol": [m.asset.symbol for m in found],
                "coin_uid": [m.coin_uid for m in found],
                "match_type": [m.match_type for m in found],
                "match_score": [m.match_score for m in found],
                "mapped_at": [now] * len(found),
            },
            schema={"asset_id": pl.Int64, "symbol": pl.String, "coin_uid": pl.String, "match_type": pl.String,
                    "match_score": pl.Float64, "mapped_at": pl.Datetime("us")},
        )  # fmt: skip
        stored = await warehouse.select(table)
        changes = split_changes(table, frame, stored)
        written = await warehouse.upsert(table, changes.write)
        outcome.inserted, outcome.changed, outcome.unchanged = written.inserted, written.updated, changes.unchanged
        return outcome


def _coin(row: tuple[Any, ...]) -> Coin:
    uid, ticker, name, coingecko, coinmarketcap = (None if v is None else str(v) for v in row)
    return Coin(str(uid), ticker, name, coingecko, coinmarketcap)


def _outcome(assets: list[Asset], coins: list[Coin], matches: list[Match]) -> CoinMapOutcome:
    outcome = CoinMapOutcome(assets=len(assets), coins=len(coins))
    for m in matches:
        outcome.by_type[m.match_type] += 1
        label = f"{m.asset.symbol} ({m.asset.asset_id})"
        if m.coin_uid is None:
            outcome.unmatched.append(label)
        elif m.ambiguous:
            outcome.ambiguous.append(f"{label}: {m.match_type} -> {', '.join(m.candidates)}")
    return outcome
