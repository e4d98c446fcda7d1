"""Configured Min API pairs (``fsym/tsym``, on CCCAGG or one exchange) for the price history datasets.

The pairs come from the ``pairs`` parameter or, when it is empty, from the ``CRYPTO_PRICE_PAIRS`` setting. The Min
API has no first-data metadata and answers zeros before a pair existed, so a pair's first run walks back from now
(a discovery plan) and stops where its data starts; ``earliest`` only bounds how far it may look.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from ingestion_core.db.tables import TableSpec
from ingestion_core.epochs import to_epoch
from ingestion_core.errors import ParameterError
from ingestion_core.names import ListedName
from ingestion_core.settings import price_pairs
from ingestion_core.sources.base import SelectionContext, Series, series

AGGREGATE = "CCCAGG"


class PriceSelection(BaseModel):
    """Which pairs the price history run ingests."""

    pairs: list[ListedName] | None = Field(
        None,
        min_length=1,
        description="Pairs as FSYM/TSYM (e.g. BTC/USD ETH/EUR); empty = the CRYPTO_PRICE_PAIRS setting.",
    )
    exchange: str = Field(
        AGGREGATE,
        pattern=r"^[A-Za-z0-9._-]{2,40}$",
        description="Exchange as the Min API names it (Binance, Kraken...), or CCCAGG for CCData's aggregate.",
    )
    earliest: datetime = Field(
        datetime(2010, 7, 17),
        description="Earliest bucket a pair's first run may reach, UTC (it stops earlier, where the data starts).",
    )

    @field_validator("pairs")
    @classmethod
    def _pairs(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else price_pairs(list(value))


@dataclass(frozen=True, slots=True)
class ConfiguredPairs:
    """The configured pairs (see the module docstring)."""

    selection: type[BaseModel] = PriceSelection
    identity_columns: tuple[str, ...] = ("exchange", "fsym", "tsym")
    reads: tuple[TableSpec, ...] = ()
    needs_client: bool = False
    skip_unknown: bool = False

    async def select(self, context: SelectionContext) -> list[Series]:
        """One series per distinct pair, in the given order."""
        chosen = PriceSelection.model_validate(context.parameters.selection())
        pairs = chosen.pairs or list(context.settings.ingestion.crypto_price_pairs)
        if not pairs:
            raise ParameterError("no pairs: pass --pairs BTC/USD ... or set CRYPTO_PRICE_PAIRS")
        found = []
        for pair in dict.fromkeys(pairs):  # both sources were checked and upper-cased by price_pairs
            fsym, _, tsym = pair.partition("/")
            found.append(
                series(
                    (chosen.exchange, fsym, tsym),
                    {"fsym": fsym, "tsym": tsym, "e": chosen.exchange},
                    {"exchange": chosen.exchange, "fsym": fsym, "tsym": tsym},
                    first_data=to_epoch(chosen.earliest),
                    probe_start=True,
                )
            )
        return found
