"""The ``asset_coin_uid_map`` run without Prefect: read the assets and the coin registry, match, write what changed.

Replaces the legacy ``scripts/asset_to_coin_uid_mapper.py`` (cron ``scheduling/ingest_asset_coin_uid_map.sh``): the
same match order (``ingestion_core.coin_uid``), the same table, but keyed and upserted (the legacy re-inserted every
mapping and relied on its copy-drop-rename de-duplication), ties reported instead of decided by query order, and a
missing registry one clear error. Matched assets are written (a mapping whose values did not change is left as it
is, so ``mapped_at`` says when it last changed); unmatched ones are reported, not written, as before.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from ingestion_core.coin_uid import FUZZY_RATIO, MATCH_TYPES, Asset, Coin, Match, match_assets
from ingestion_core.db.factory import open_warehouse
from ingestion_core.db.tables.assets import ASSET_ALTERNATIVE_IDS, ASSET_COIN_UID_MAP, ASSETS
from ingestion_core.errors import ConfigurationError
from ingestion_core.pipeline.changes import split_changes
from ingestion_core.settings import Settings

DATASET = "asset_coin_uid_map"


#: The fuzzy match's bar as a flow parameter (the command line checks it with the same type).
FuzzyRatio = Annotated[float, Field(ge=0.5, le=1.0)]


class CoinMapParameters(BaseModel):
    """The run's parameters (the command line's options and the Prefect form's fields)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fuzzy_ratio: FuzzyRatio = Field(
        FUZZY_RATIO,
        description="Least name similarity (difflib ratio, 0.5-1) of a fuzzy name match; the legacy mapper's 0.85.",
    )


COIN_COLUMNS = ("coin_uid", "ticker", "name", "coingecko_id", "coinmarketcap_id")
LISTED = 50  # unmatched and ambiguous assets named in the summary


@dataclass
class CoinMapOutcome:
    """What one mapping run did.

    Attributes:
        assets: assets read from ``cc_assets``.
        coins: coins read from the registry.
        by_type: matches per ``match_type`` (``unmatched`` included).
        unmatched: ``symbol (asset_id)`` of the assets nothing matched.
        ambiguous: ``symbol (asset_id): rule -> candidates`` of the assets two or more coins fitted.
        inserted: mappings written for the first time.
        changed: mappings whose coin, rule or score changed.
        unchanged: mappings as stored (not rewritten).
    """

    assets: int = 0
    coins: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    inserted: int = 0
    changed: int = 0
    unchanged: int = 0

    def headline(self) -> str:
        """One line: what matched how, and what was written."""
        types = ", ".join(f"{self.by_type[t]} {t}" for t in MATCH_TYPES if self.by_type[t])
        return (
            f"{DATASET}: {self.assets} assets, {self.coins} coins: {types or 'nothing'}; {len(self.ambiguous)} "
            f"ambiguous; {self.inserted} inserted, {self.changed} changed, {self.unchanged} unchanged"
        )

    def rows(self) -> list[dict[str, object]]:
        """The artifact's rows: one per match type, then the unmatched and ambiguous assets named."""
        rows: list[dict[str, object]] = [
            {"match_type": t, "assets": self.by_type[t], "examples": ""} for t in MATCH_TYPES
        ]
        rows[-1]["examples"] = "; ".join(self.unmatched[:LISTED])
        rows.append({"match_type": "ambiguous", "assets": len(self.ambiguous), "examples": "; ".join(self.ambiguous)})
        return rows

    def metrics(self) -> dict[str, Any]:
        """The run's figures (event payload, run log)."""
        return {
            "series": self.assets,
            "rows_inserted": self.inserted,
            "rows_changed": self.changed,
            "rows_unchanged": self.unchanged,
            **{f"matched_{t}": self.by_type[t] for t in MATCH_TYPES},
            "ambiguous": len(self.ambiguous),
        }


async def refresh_coin_uid_map(
    settings: Settings, *, fuzzy_ratio: float = FUZZY_RATIO, clock: Callable[[], float] = time.time
) -> CoinMapOutcome:
    """Match every asset of ``cc_assets`` to the registry and write the matched ones (see the module docstring).

    Raises:
        ConfigurationError: ``cc_assets`` is empty (run ``asset_metadata`` first), or the registry table or one of
            its columns does not exist (``COINS_TABLE``).
        DatabaseError: the warehouse is unreachable or the map table lacks its key.
    """
    table = ASSET_COIN_UID_MAP.qualified_name
    async with open_warehouse(settings.database) as warehouse:
        await warehouse.ensure_schema([ASSETS.qualified_name, ASSET_ALTERNATIVE_IDS.qualified_name, table])
        await warehouse.require_key(table)
        listed = await warehouse.select(ASSETS.qualified_name, ["asset_id", "symbol", "name"])
        if listed.height == 0:
            raise ConfigurationError(f"{ASSETS.qualified_name} is empty: run the asset_metadata flow first")
        alternative = await warehouse.select(ASSET_ALTERNATIVE_IDS.qualified_name, ["asset_id", "cg_id", "cmc_id"])
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
        changes = split_changes(ASSET_COIN_UID_MAP, frame, stored)
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
