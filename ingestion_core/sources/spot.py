"""Spot pairs of the top assets on qualified exchanges (the legacy spot daily selection, made explicit).

1. **Top assets**: each asset's latest ``cc_asset_market_data`` snapshot, ordered by its 30-day spot quote volume
   (largest first, then asset id), the first ``asset_limit`` that ``cc_assets`` knows.
2. **Qualified exchanges**: ``cc_exchanges_general`` rows graded BB or better, best grade first (then grade
   points, then name); the first ``exchange_limit``. The Min API names an exchange ``Binance`` where the Data API
   says ``binance``: the match is :func:`data_api_market` (lower case), written out here, not left to a
   case-insensitive collation as the legacy SQL did (the keys now compare exactly).
3. **Pairs**: ``ACTIVE`` rows of ``cc_instruments_spot`` on those exchanges whose base asset *id* is a top asset
   (legacy matched by symbol, so another asset sharing a top symbol contributed its pairs), each pair once, ordered
   by asset rank, exchange order and symbol; the first ``pair_limit``.

Each pair is one series keyed (exchange, symbol) = (Data API market, mapped instrument such as ``BTC-USD``), the
identity the legacy table is keyed by; its bounds are the pair's first and last trade times.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from ingestion_core.db.tables import TableSpec
from ingestion_core.db.tables.assets import ASSET_MARKET_DATA, ASSETS, EXCHANGES_GENERAL
from ingestion_core.db.tables.spot import INSTRUMENTS_SPOT
from ingestion_core.epochs import to_epoch
from ingestion_core.errors import ConfigurationError, ParameterError
from ingestion_core.sources.base import SelectionContext, Series, series

QUALIFYING_GRADES = ("AAA", "AA", "A", "BBB", "BB")
#: The tables the selection reads, each with the flow that fills it.
UPSTREAM: tuple[tuple[TableSpec, str], ...] = (
    (ASSET_MARKET_DATA, "asset_metadata"),
    (ASSETS, "asset_metadata"),
    (EXCHANGES_GENERAL, "exchanges_general"),
    (INSTRUMENTS_SPOT, "spot_instruments"),
)


class SpotSelection(BaseModel):
    """Which spot pairs the daily spot run ingests."""

    asset_limit: int = Field(
        50, ge=1, le=10_000, description="Top assets by 30-day spot quote volume (latest snapshot)."
    )
    exchange_limit: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Qualified exchanges to use, best grade first; empty = all graded BB or better.",
    )
    pair_limit: int | None = Field(None, ge=1, le=1_000_000, description="Pairs to ingest at most; empty = all.")


def data_api_market(min_api_name: str) -> str:
    """The Data API market name of a Min API exchange name (``Binance`` -> ``binance``)."""
    return min_api_name.strip().lower()


@dataclass(frozen=True, slots=True)
class SpotTopPairs:
    """The top pairs selection (see the module docstring)."""

    selection: type[BaseModel] = SpotSelection
    identity_columns: tuple[str, ...] = ("exchange", "symbol")
    reads: tuple[TableSpec, ...] = tuple(table for table, _ in UPSTREAM)
    needs_client: bool = False
    skip_unknown: bool = False

    async def select(self, context: SelectionContext) -> list[Series]:
        """Top assets x qualified exchanges x active pairs, each pair once, in a stable order."""
        chosen = SpotSelection.model_validate(context.parameters.selection())
        warehouse = context.warehouse
        for table, flow in UPSTREAM:
            if not await warehouse.has_rows(table):
                raise ConfigurationError(
                    f"{table.qualified_name} is empty: run the {flow} flow first (python -m flows.{flow})"
                )
        latest = await warehouse.latest(ASSET_MARKET_DATA, ["asset_id", "spot_moving_30_day_quote_volume_usd"])
        known = set((await warehouse.select(ASSETS, ["asset_id"])).get_column("asset_id").to_list())
        ranked = sorted(
            ((volume or 0.0, asset_id) for asset_id, volume in latest.iter_rows() if asset_id in known),
            key=lambda pair: (-pair[0], pair[1]),
        )
        top = [asset_id for _, asset_id in ranked[: chosen.asset_limit]]
        grades = await warehouse.select(
            EXCHANGES_GENERAL,
            ["internal_name", "grade", "grade_points"],
            {"grade": list(QUALIFYING_GRADES)},
        )
        exchanges = sorted(
            grades.iter_rows(), key=lambda r: (QUALIFYING_GRADES.index(r[1]), -(r[2] or 0.0), data_api_market(r[0]))
        )
        markets = list(dict.fromkeys(data_api_market(name) for name, _, _ in exchanges))[: chosen.exchange_limit]
        if not top or not markets:
            raise ParameterError(f"no pairs to select: {len(top)} top assets, {len(markets)} qualified exchanges")
        pairs = await warehouse.select(
            INSTRUMENTS_SPOT,
            [
                "exchange_internal_name",
                "mapped_instrument_symbol",
                "base_asset_id",
                "instrument_status_on_exchange",
                "first_trade_datetime",
                "last_trade_datetime",
            ],
            {"exchange_internal_name": markets, "base_asset_id": top, "instrument_status_on_exchange": "ACTIVE"},
        )
        rank = {asset_id: position for position, asset_id in enumerate(top)}
        order = {market: position for position, market in enumerate(markets)}
        rows = sorted(set(pairs.iter_rows()), key=lambda r: (rank[r[2]], order[r[0]], r[1]))[: chosen.pair_limit]
        if not rows:
            raise ParameterError(
                f"no ACTIVE pair of the {len(top)} top assets on {', '.join(markets)}: widen the limits or refresh "
                "spot_instruments"
            )
        return [
            series(
                (market, symbol),
                {"market": market, "instrument": symbol},
                {"exchange": market, "symbol": symbol},
                status=str(status),
                first_data=to_epoch(first),
                last_data=to_epoch(last),
            )
            for market, symbol, _, status, first, last in rows
        ]
