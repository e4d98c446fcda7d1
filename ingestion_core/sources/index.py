"""The top assets of the live top list, as ``<SYMBOL>-USD`` instruments of an index family (default ``cadli``).

As the legacy script did, the top assets come from ``/asset/v1/top/list`` sorted by 30-day spot quote volume in USD
(field-mapping §8); ``asset_limit`` above 100 is paged instead of failing. Index instruments have no first-data
metadata: a first run starts ``history_days`` back (legacy: 730) and the 404 "no data before" answer moves the walk
to where an index actually starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from ingestion_core.api.catalog import asset_top_list
from ingestion_core.db.tables import TableSpec
from ingestion_core.errors import ConfigurationError, DataError
from ingestion_core.sources.base import SelectionContext, Series, series

SORT_BY = "SPOT_MOVING_30_DAY_QUOTE_VOLUME_USD"
QUOTE = "USD"


class IndexSelection(BaseModel):
    """Which index instruments the daily index run ingests."""

    market: str = Field(
        "cadli", pattern=r"^[a-z0-9_]{2,30}$", description="Index family (Data API market), e.g. cadli."
    )
    asset_limit: int = Field(50, ge=1, le=5000, description="Top assets by 30-day spot quote volume (live top list).")
    history_days: int = Field(
        730, ge=1, le=20_000, description="How far back a first run of an index starts (it stops at the index's start)."
    )


@dataclass(frozen=True, slots=True)
class TopAssetsIndex:
    """The top-assets index selection (see the module docstring)."""

    selection: type[BaseModel] = IndexSelection
    identity_columns: tuple[str, ...] = ("market", "asset", "quote")
    reads: tuple[TableSpec, ...] = ()
    needs_client: bool = True
    skip_unknown: bool = True  # a top-list asset need not have an index on this family

    async def select(self, context: SelectionContext) -> list[Series]:
        """The top list's symbols in rank order, each once, as ``<SYMBOL>-USD`` on the chosen index family."""
        chosen = IndexSelection.model_validate(context.parameters.selection())
        if context.client is None:
            raise ConfigurationError("the index selection needs an API client")
        page_size = min(100, max(10, chosen.asset_limit))
        assets = await asset_top_list(
            context.client, page_size=page_size, limit=chosen.asset_limit, sort_by=SORT_BY, toplist_quote_asset=QUOTE
        )
        symbols = list(dict.fromkeys(str(a["SYMBOL"]) for a in assets if isinstance(a.get("SYMBOL"), str)))
        if not symbols:
            raise DataError("/asset/v1/top/list returned no asset with a SYMBOL")
        start = context.now - chosen.history_days * 86_400
        return [
            series(
                (chosen.market, symbol),
                {"market": chosen.market, "instrument": f"{symbol}-{QUOTE}"},
                {"market": chosen.market, "asset": symbol, "quote": QUOTE},
                first_data=start,
            )
            for symbol in symbols
        ]
