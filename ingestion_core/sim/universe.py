"""The synthetic universe: futures and spot markets with their instruments, index instruments and assets.

First-data times are offsets from the fixed ``SimConfig.anchor``; dated futures expire on a grid anchored there
too, so the history of any instrument never depends on when the simulator runs. Only *which* dated contracts are
listed (and whether they are EXPIRED) depends on "now".
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

from ingestion_core.sim.config import SimConfig
from ingestion_core.sim.derivatives import FUNDING_INTERVAL_SECONDS
from ingestion_core.sim.series import hash_key, uniform

Denomination = Literal["VANILLA", "INVERSE", "QUANTO"]

# (symbol, asset id, reference price). USD is id 5 as in the fixtures.
_KNOWN_ASSETS: tuple[tuple[str, int, float], ...] = (
    ("BTC", 1, 60000.0),
    ("ETH", 2, 3000.0),
    ("SOL", 4, 150.0),
    ("XRP", 8, 0.6),
    ("BNB", 9, 550.0),
    ("DOGE", 10, 0.12),
    ("ADA", 11, 0.45),
    ("TRX", 12, 0.12),
    ("LINK", 13, 14.0),
    ("AVAX", 14, 30.0),
    ("DOT", 15, 6.0),
    ("UNI", 16, 7.2),
    ("LTC", 17, 80.0),
    ("ATOM", 18, 8.0),
    ("NEAR", 19, 5.0),
)
QUOTE_IDS: dict[str, int] = {"USD": 5, "USDT": 7, "USDC": 3, "EUR": 6}


@dataclass(frozen=True, slots=True)
class Asset:
    """An asset of the top list (and the base of spot pairs and index instruments)."""

    symbol: str
    asset_id: int
    price: float
    launch_ts: int
    key: int


@dataclass(frozen=True, slots=True)
class FuturesInstrument:
    """A futures instrument with its data bounds per dataset (``None`` = the dataset does not exist).

    ``end_ts`` is the last second with data for a contract that stopped (expiry - 1), ``None`` when live.
    """

    market: str
    instrument: str
    mapped_instrument: str
    index_underlying: str
    quote_currency: str
    settlement_currency: str
    contract_currency: str
    denomination: Denomination
    expiry: int | None
    first_trade: int
    first_funding: int | None
    first_open_interest: int
    end_ts: int | None
    base_price: float
    key: int

    def status(self, now: int) -> str:
        """Return "ACTIVE" or "EXPIRED" at ``now``."""
        return "EXPIRED" if self.end_ts is not None and self.end_ts < now else "ACTIVE"

    def data_end(self, now: int) -> int:
        """Return the last second with data at ``now``."""
        return now if self.end_ts is None else min(now, self.end_ts)

    def currency_ids(self) -> dict[str, int]:
        """Return the MAPPING_ADVANCED ids of the four currencies."""
        return {
            "INDEX_UNDERLYING_ID": asset_id_of(self.index_underlying),
            "QUOTE_CURRENCY_ID": asset_id_of(self.quote_currency),
            "SETTLEMENT_CURRENCY_ID": asset_id_of(self.settlement_currency),
            "CONTRACT_CURRENCY_ID": asset_id_of(self.contract_currency),
        }


@dataclass(frozen=True, slots=True)
class SpotInstrument:
    """A spot pair on a spot market."""

    market: str
    instrument: str
    mapped_instrument: str
    base: str
    quote: str
    first_trade: int
    base_price: float
    key: int
    end_ts: int | None = None

    def status(self, now: int) -> str:
        """Return "ACTIVE", or "RETIRED" once the pair stopped trading."""
        return "RETIRED" if self.end_ts is not None and self.end_ts < now else "ACTIVE"

    def data_end(self, now: int) -> int:
        """Return the last second with data at ``now``."""
        return now if self.end_ts is None else min(now, self.end_ts)


@dataclass(frozen=True, slots=True)
class IndexInstrument:
    """An index instrument such as ``cadli`` / ``BTC-USD``."""

    market: str
    instrument: str
    asset: str
    first_ts: int
    base_price: float
    key: int


@dataclass(frozen=True, slots=True)
class Universe:
    """Everything that exists at one "now"."""

    now: int
    futures: tuple[FuturesInstrument, ...]
    spot: tuple[SpotInstrument, ...]
    index: tuple[IndexInstrument, ...]
    assets: tuple[Asset, ...]
    futures_markets: tuple[str, ...]
    spot_markets: tuple[str, ...]
    index_markets: tuple[str, ...]

    def find_futures(self, market: str, instrument: str) -> FuturesInstrument | None:
        """Look an instrument up by mapped name first, then by exchange-native name (as the API does)."""
        candidates = [item for item in self.futures if item.market == market]
        for item in candidates:
            if item.mapped_instrument == instrument:
                return item
        return next((item for item in candidates if item.instrument == instrument), None)

    def find_spot(self, market: str, instrument: str) -> SpotInstrument | None:
        """Look a spot pair up by mapped name first, then by exchange-native name."""
        candidates = [item for item in self.spot if item.market == market]
        for item in candidates:
            if item.mapped_instrument == instrument:
                return item
        return next((item for item in candidates if item.instrument == instrument), None)

    def find_index(self, market: str, instrument: str) -> IndexInstrument | None:
        """Look an index instrument up."""
        return next((i for i in self.index if i.market == market and i.instrument == instrument), None)


def asset_id_of(symbol: str) -> int:
    """Return the asset id of a symbol (known ids first, then a stable synthetic id)."""
    if symbol in QUOTE_IDS:
        return QUOTE_IDS[symbol]
    for known, asset_id, _ in _KNOWN_ASSETS:
        if known == symbol:
            return asset_id
    return 1000 + int(symbol[3:]) if symbol.startswith("SYN") and symbol[3:].isdigit() else 999


def _base(index: int) -> tuple[str, float]:
    if index < len(_KNOWN_ASSETS):
        symbol, _, price = _KNOWN_ASSETS[index]
        return symbol, price
    return f"SYN{index}", round(0.5 + 50.0 * uniform(index, 77), 3)


def _perpetual(config: SimConfig, market: str, position: int) -> FuturesInstrument:
    base, price = _base(position)
    key = hash_key(config.seed, "futures", market, position)
    style = position % 4
    denomination: Denomination
    if style == 1:
        denomination, quote, settlement, contract, native = "INVERSE", "USD", base, "USD", f"{base}USD_PERP"
    elif style == 3:
        denomination, quote, settlement, contract, native = "QUANTO", "USDT", "USDC", base, f"{base}USDC"
    else:
        denomination, quote, settlement, contract, native = "VANILLA", "USDT", "USDT", base, f"{base}USDT"
    first_trade = config.anchor - int(uniform(key, 1) * config.history_days * 86400) // 60 * 60
    first_funding = -(-first_trade // FUNDING_INTERVAL_SECONDS) * FUNDING_INTERVAL_SECONDS
    first_oi = first_trade + int(uniform(key, 2) * config.oi_delay_days * 86400) // 60 * 60 + 3600
    return FuturesInstrument(
        market=market,
        instrument=native,
        mapped_instrument=f"{base}-{quote}-{denomination}-PERPETUAL",
        index_underlying=base,
        quote_currency=quote,
        settlement_currency=settlement,
        contract_currency=contract,
        denomination=denomination,
        expiry=None,
        first_trade=first_trade,
        first_funding=first_funding,
        first_open_interest=first_oi,
        end_ts=None,
        base_price=price * (0.98 + 0.04 * uniform(key, 3)),
        key=key,
    )


def _dated(config: SimConfig, market: str, grid_index: int) -> FuturesInstrument:
    period = config.dated_period_days * 86400
    expiry = config.anchor // 86400 * 86400 + 8 * 3600 + grid_index * period
    base, price = _base(grid_index % 2)
    key = hash_key(config.seed, "dated", market, grid_index)
    day = datetime.datetime.fromtimestamp(expiry, tz=datetime.UTC)
    first_trade = expiry - config.dated_listing_days * 86400 + int(uniform(key, 1) * 3600) // 60 * 60
    return FuturesInstrument(
        market=market,
        instrument=f"{base}USDT_{day:%y%m%d}",
        mapped_instrument=f"{base}-USDT-VANILLA-{day:%Y%m%d}",
        index_underlying=base,
        quote_currency="USDT",
        settlement_currency="USDT",
        contract_currency=base,
        denomination="VANILLA",
        expiry=expiry,
        first_trade=first_trade,
        first_funding=None,
        first_open_interest=first_trade + 3600,
        end_ts=expiry - 1,
        base_price=price * (1.0 + 0.02 * uniform(key, 3)),
        key=key,
    )


def build_universe(config: SimConfig, now: int) -> Universe:
    """Build the universe that exists at ``now`` from ``config`` (pure)."""
    futures: list[FuturesInstrument] = []
    period = config.dated_period_days * 86400
    grid_zero = config.anchor // 86400 * 86400 + 8 * 3600
    current = (now - grid_zero) // period  # expiry index of the last contract expired at or before now
    for market in config.futures_markets:
        futures.extend(_perpetual(config, market, position) for position in range(config.instruments_per_market))
        grid = list(range(current - config.expired_per_market + 1, current + 1))
        grid += list(range(current + 1, current + 1 + config.dated_per_market))
        for grid_index in grid:
            contract = _dated(config, market, grid_index)
            if contract.first_trade <= now:
                futures.append(contract)
    assets = tuple(_asset(config, position) for position in range(max(config.assets, config.index_instruments)))
    spot: list[SpotInstrument] = []
    for market_position, market in enumerate(config.spot_markets):
        for position in range(config.pairs_per_market + config.retired_pairs_per_market):
            base_asset = assets[(position + market_position) % len(assets)]
            retired = position >= config.pairs_per_market
            quote = "USDC" if retired else ("USD", "USDT", "EUR")[position % 3]
            key = hash_key(config.seed, "spot", market, position)
            spot.append(
                SpotInstrument(
                    market=market,
                    instrument=f"{base_asset.symbol}{quote}"
                    if market_position % 2 == 0
                    else f"{base_asset.symbol}-{quote}",
                    mapped_instrument=f"{base_asset.symbol}-{quote}",
                    base=base_asset.symbol,
                    quote=quote,
                    first_trade=config.anchor - int(uniform(key, 1) * config.history_days * 86400) // 60 * 60,
                    base_price=base_asset.price * (1.1 if quote == "EUR" else 1.0),
                    key=key,
                    # Retired pairs stop one day after the anchor (fixed, like every other data bound).
                    end_ts=config.anchor + 86400 - 1 if retired else None,
                )
            )
    index = tuple(
        IndexInstrument(
            market=market,
            instrument=f"{asset.symbol}-USD",
            asset=asset.symbol,
            first_ts=max(asset.launch_ts, config.anchor - config.history_days * 86400),
            base_price=asset.price,
            key=hash_key(config.seed, "index", market, asset.symbol),
        )
        for market in config.index_markets
        for asset in assets[: config.index_instruments]
    )
    return Universe(
        now=now,
        futures=tuple(futures),
        spot=tuple(spot),
        index=index,
        assets=assets,
        futures_markets=config.futures_markets,
        spot_markets=config.spot_markets,
        index_markets=config.index_markets,
    )


def _asset(config: SimConfig, position: int) -> Asset:
    symbol, price = _base(position)
    key = hash_key(config.seed, "asset", symbol)
    launch = config.anchor - int((0.5 + uniform(key, 1)) * config.history_days * 86400) // 86400 * 86400
    return Asset(symbol=symbol, asset_id=asset_id_of(symbol), price=price, launch_ts=launch, key=key)
