"""Metadata endpoints: futures/spot markets and instruments, the asset top list, exchanges general info.

Instrument metadata is derived from the same universe as the history endpoints, so ``FIRST_*_TIMESTAMP`` is the
first second with data, ``LAST_*`` is "now" for ACTIVE instruments and the last data second for EXPIRED ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingestion_core.sim.envelope import DataApiError, Reply, data_ok, min_ok, parse_int, split_csv
from ingestion_core.sim.history import unknown_market
from ingestion_core.sim.series import PricePath, uniform
from ingestion_core.sim.universe import Asset, FuturesInstrument, SpotInstrument, Universe, asset_id_of

STATUSES = ("ACTIVE", "IGNORED", "RETIRED", "EXPIRED", "READY_FOR_DECOMMISSIONING", "RETIRED_UNMAPPED")
# A real counter above 2**53 (bybit, docs/ccdata-api.md §7); served by the second futures market.
HUGE_TRADES_COUNTER = 6890172247264350000
HUGE_OI_COUNTER = 4831337630818829000


def _market_common(
    market: str, position: int, type_code: str, now: int, counts: dict[str, int], mapped: int
) -> dict[str, Any]:
    return {
        "ID": 8 + position,
        "TYPE": type_code,
        "EXCHANGE_STATUS": "ACTIVE",
        "EXCHANGE_INTERNAL_NAME": market,
        "URI": market,
        "MAPPED_INSTRUMENTS_TOTAL": mapped,
        "UNMAPPED_INSTRUMENTS_TOTAL": position,
        "INSTRUMENT_STATUS": {
            "ACTIVE": counts.get("ACTIVE", 0),
            "IGNORED": 0,
            "RETIRED": 0,
            "EXPIRED": counts.get("EXPIRED", 0),
            "RETIRED_UNMAPPED": 0,
        },
    }


def _market_descriptive(market: str, position: int, now: int) -> dict[str, Any]:
    return {
        "CREATED_ON": 1709305140 + position,
        "UPDATED_ON": now - now % 3600,
        "NAME": market.capitalize(),
        "LOGO_URL": f"https://resources.example.invalid/exchange-management/{8 + position}/logo.png",
        "LAUNCH_DATE": 1499990400 + position * 86400,
        "HAS_SPOT_TRADING": True,
        "HAS_FUTURES_TRADING": True,
        "HAS_INDEX_PUBLISHING": True,
        "HAS_OPTIONS_TRADING": position % 2 == 0,
        "HAS_DEX_TRADING": False,
        "EXCHANGE_DESCRIPTION_SNIPPET": f"{market.capitalize()} is a simulated exchange.",
    }


def futures_market_record(universe: Universe, market: str, position: int) -> dict[str, Any]:
    """Return the ``/futures/v1/markets`` record of one market (TYPE "604")."""
    now = universe.now
    items = [item for item in universe.futures if item.market == market]
    counts: dict[str, int] = {}
    for item in items:
        counts[item.status(now)] = counts.get(item.status(now), 0) + 1
    record = _market_common(market, position, "604", now, counts, len(items))
    huge = position == 1
    record.update(
        {
            "TOTAL_TRADES_FUTURES": HUGE_TRADES_COUNTER if huge else 131986387884 + position,
            "TOTAL_OPEN_INTEREST_UPDATES": HUGE_OI_COUNTER if huge else 1524415263 + position,
            "TOTAL_FUNDING_RATE_UPDATES": 51374919 + position,
            "HAS_ORDERBOOK_L2_MINUTE_SNAPSHOTS_ENABLED": position % 2 == 0,
        }
    )
    record.update(_market_descriptive(market, position, now))
    record.update(
        {
            "FUTURES_TRADING_LAUNCH_DATE": 1567900800,
            "FUTURES_TRADING_MECHANISMS": [{"NAME": "ORDER_BOOK"}],
            "HAS_PERPETUAL_CONTRACTS": True,
            "FUTURES_SETTLEMENT_TYPES": [{"NAME": "CASH_SETTLEMENT"}],
            "FUTURES_DENOMINATION_TYPES": [{"NAME": "VANILLA"}, {"NAME": "INVERSE"}],
            "EXCHANGE_DESCRIPTION": f"## {market.capitalize()}\nA simulated futures exchange.",
            "EXCHANGE_DESCRIPTION_SUMMARY": f"{market.capitalize()}, a simulated futures exchange.",
            "WEBSITE_URL": f"https://www.{market}.example.invalid",
            "BLOG_URL": f"https://blog.{market}.example.invalid",
            "FUTURES_INTEGRATION_COMMENTS": "# Orderbook\n* simulated",
            "FUTURES_TRADES_INTEGRATION_STAGE": "IN_PRODUCTION",
            "FUTURES_TRADES_INTEGRATION_DATE": 1640995200,
            "HAS_FUTURES_TRADES_POLLING_BACKFILL": False,
            "FUTURES_FUNDING_RATE_INTEGRATION_STAGE": "IN_PRODUCTION",
            "FUTURES_FUNDING_RATE_INTEGRATION_DATE": 1640995200,
            "FUTURES_OPEN_INTEREST_INTEGRATION_STAGE": "IN_PRODUCTION",
            "FUTURES_OPEN_INTEREST_INTEGRATION_DATE": 1640995200,
            "FUTURES_INDEX_INTEGRATION_STAGE": "IN_PRODUCTION",
            "FUTURES_INDEX_INTEGRATION_DATE": 1640995200,
            "FUTURES_ORDER_BOOK_INTEGRATION_STAGE": "IN_PRODUCTION",
            "FUTURES_ORDER_BOOK_INTEGRATION_DATE": 1614816000,
        }
    )
    return record


def futures_instrument_record(item: FuturesInstrument, now: int) -> dict[str, Any]:
    """Return the ``instruments`` entry of one futures instrument (TYPE "614")."""
    status = item.status(now)
    data_end = item.data_end(now)
    mapping: dict[str, Any] = {
        "MAPPED_INSTRUMENT": item.mapped_instrument,
        "INDEX_UNDERLYING": item.index_underlying,
        "INDEX_UNDERLYING_ID": asset_id_of(item.index_underlying),
        "QUOTE_CURRENCY": item.quote_currency,
        "QUOTE_CURRENCY_ID": asset_id_of(item.quote_currency),
        "SETTLEMENT_CURRENCY": item.settlement_currency,
        "SETTLEMENT_CURRENCY_ID": asset_id_of(item.settlement_currency),
        "CONTRACT_CURRENCY": item.contract_currency,
        "CONTRACT_CURRENCY_ID": asset_id_of(item.contract_currency),
        "DENOMINATION_TYPE": item.denomination,
        "TRANSFORM_FUNCTION": "",
        "CREATED_ON": item.first_trade - 3600,
    }
    elapsed = max(0, data_end - item.first_trade)
    record: dict[str, Any] = {
        "TYPE": "614",
        "INSTRUMENT_STATUS": status,
        "INSTRUMENT": item.instrument,
        "HISTO_SHARD": f"PG_COLLECT_0{1 + item.key % 5}",
        "MAPPED_INSTRUMENT": item.mapped_instrument,
        "INSTRUMENT_MAPPING": mapping,
        "HAS_TRADES_FUTURES": True,
        "FIRST_TRADE_FUTURES_TIMESTAMP": item.first_trade,
        "LAST_TRADE_FUTURES_TIMESTAMP": data_end,
        "TOTAL_TRADES_FUTURES": elapsed // 2 + 1,
        "HAS_FUNDING_RATE_UPDATES": item.first_funding is not None,
    }
    if item.first_funding is not None:
        record["FIRST_FUNDING_RATE_UPDATE_TIMESTAMP"] = item.first_funding
        record["LAST_FUNDING_RATE_UPDATE_TIMESTAMP"] = data_end
        record["TOTAL_FUNDING_RATE_UPDATES"] = max(0, data_end - item.first_funding) // 28800 + 1
    else:
        record["TOTAL_FUNDING_RATE_UPDATES"] = 0
    record["HAS_OPEN_INTEREST_UPDATES"] = item.first_open_interest <= data_end
    if item.first_open_interest <= data_end:
        record["FIRST_OPEN_INTEREST_UPDATE_TIMESTAMP"] = item.first_open_interest
        record["LAST_OPEN_INTEREST_UPDATE_TIMESTAMP"] = data_end
        record["TOTAL_OPEN_INTEREST_UPDATES"] = (data_end - item.first_open_interest) // 20 + 1
    else:
        record["TOTAL_OPEN_INTEREST_UPDATES"] = 0
    record["CONTRACT_EXPIRATION_TS"] = item.expiry
    return record


def _status_filter(params: Mapping[str, str]) -> set[str]:
    statuses = {status.upper() for status in split_csv(params.get("instrument_status"))} or {"ACTIVE"}
    bad = statuses - set(STATUSES)
    if bad:
        raise DataApiError(
            400, "Bad request: unknown instrument_status.", {"param": "instrument_status", "values": sorted(bad)}
        )
    return statuses


def _markets(params: Mapping[str, str], known: tuple[str, ...]) -> list[tuple[int, str]]:
    wanted = [m.lower() for m in split_csv(params.get("market") or params.get("markets"))]
    for market in wanted:
        if market not in known:
            raise unknown_market(market)
    return [(pos, m) for pos, m in enumerate(known) if not wanted or m in wanted]


def futures_markets(universe: Universe, params: Mapping[str, str]) -> Reply:
    """Serve ``/futures/v1/markets``."""
    data = {m: futures_market_record(universe, m, pos) for pos, m in _markets(params, universe.futures_markets)}
    return data_ok(data, rows=len(data))


#: Stands in a served body for bytes that are not UTF-8 (the ``invalid_utf8`` metadata fault): no JSON serialiser
#: writes such bytes, so the server swaps the mark for :data:`INVALID_UTF8_BYTES` after serialising.
INVALID_UTF8_MARK = b"<not-utf-8>"
INVALID_UTF8_BYTES = b"\xff\xfe"


def inject_instrument_faults(data: dict[str, Any], faults: Mapping[str, str]) -> None:
    """Add the broken instruments the ``metadata_faults`` knob asks for (each copies a market's first instrument)."""
    broken = {
        "long_symbol": "X" * 300 + "-USDT-VANILLA-PERPETUAL",
        "surrogate": "BAD\ud800-USDT-VANILLA-PERPETUAL",
        "invalid_utf8": f"BAD{INVALID_UTF8_MARK.decode()}-USDT-VANILLA-PERPETUAL",
    }
    for fault, symbol in broken.items():
        market = data.get(faults.get(fault, ""))
        if market and market.get("instruments"):
            first = next(iter(market["instruments"].values()))
            market["instruments"][symbol] = {**first, "MAPPED_INSTRUMENT": symbol, "INSTRUMENT": symbol[:12]}


def futures_instruments(
    universe: Universe, params: Mapping[str, str], faults: Mapping[str, str] | None = None
) -> Reply:
    """Serve ``/futures/v1/markets/instruments`` (``instrument_status`` CSV, default ACTIVE; ``instruments``)."""
    statuses = _status_filter(params)
    names = set(split_csv(params.get("instruments") or params.get("instrument")))
    data: dict[str, Any] = {}
    count = 0
    for pos, market in _markets(params, universe.futures_markets):
        record = futures_market_record(universe, market, pos)
        instruments: dict[str, Any] = {}
        for item in universe.futures:
            if item.market != market or item.status(universe.now) not in statuses:
                continue
            if names and item.mapped_instrument not in names and item.instrument not in names:
                continue
            instruments[item.mapped_instrument] = futures_instrument_record(item, universe.now)
        record["instruments"] = instruments
        count += len(instruments)
        data[market] = record
    inject_instrument_faults(data, faults or {})
    return data_ok(data, rows=count)


def spot_market_record(universe: Universe, market: str, position: int) -> dict[str, Any]:
    """Return the ``/spot/v1/markets`` record of one market (TYPE "602")."""
    items = [item for item in universe.spot if item.market == market]
    counts = {"ACTIVE": 0, "RETIRED": 0}
    for item in items:
        counts[item.status(universe.now)] += 1
    record = _market_common(market, position, "602", universe.now, counts, len(items))
    record["INSTRUMENT_STATUS"]["RETIRED"] = counts["RETIRED"]
    for absent in ("ID", "EXCHANGE_INTERNAL_NAME", "URI"):  # the spot record (fixture) has no identity block
        del record[absent]
    record["TOTAL_TRADES_SPOT"] = 1379183049 + position
    record["HAS_ORDERBOOK_L2_MINUTE_SNAPSHOTS_ENABLED"] = position % 2 == 0
    return record


def spot_instrument_record(item: SpotInstrument, now: int) -> dict[str, Any]:
    """Return the ``instruments`` entry of one spot pair (TYPE "612")."""
    return {
        "TYPE": "612",
        "INSTRUMENT_STATUS": item.status(now),
        "INSTRUMENT": item.instrument,
        "HISTO_SHARD": f"PG_COLLECT_0{1 + item.key % 5}",
        "MAPPED_INSTRUMENT": item.mapped_instrument,
        "INSTRUMENT_MAPPING": {
            "MAPPED_INSTRUMENT": item.mapped_instrument,
            "BASE": item.base,
            "BASE_ID": asset_id_of(item.base),
            "QUOTE": item.quote,
            "QUOTE_ID": asset_id_of(item.quote),
            "TRANSFORM_FUNCTION": "",
            "CREATED_ON": item.first_trade - 86400,
        },
        "HAS_TRADES_SPOT": True,
        "FIRST_TRADE_SPOT_TIMESTAMP": item.first_trade,
        "LAST_TRADE_SPOT_TIMESTAMP": item.data_end(now),
        "TOTAL_TRADES_SPOT": (item.data_end(now) - item.first_trade) // 10 + 1,
    }


def spot_markets(universe: Universe, params: Mapping[str, str]) -> Reply:
    """Serve ``/spot/v1/markets``."""
    data = {m: spot_market_record(universe, m, pos) for pos, m in _markets(params, universe.spot_markets)}
    return data_ok(data, rows=len(data))


def spot_instruments(universe: Universe, params: Mapping[str, str], faults: Mapping[str, str] | None = None) -> Reply:
    """Serve ``/spot/v1/markets/instruments`` (``instrument_status`` CSV, default ACTIVE; RETIRED pairs exist)."""
    statuses = _status_filter(params)
    names = set(split_csv(params.get("instruments")))
    data: dict[str, Any] = {}
    count = 0
    for pos, market in _markets(params, universe.spot_markets):
        record = spot_market_record(universe, market, pos)
        record["instruments"] = {
            item.mapped_instrument: spot_instrument_record(item, universe.now)
            for item in universe.spot
            if item.market == market
            and item.status(universe.now) in statuses
            and (not names or item.mapped_instrument in names or item.instrument in names)
        }
        count += len(record["instruments"])
        data[market] = record
    inject_instrument_faults(data, faults or {})
    return data_ok(data, rows=count)


def asset_record(asset: Asset, rank: int, now: int) -> dict[str, Any]:
    """Return one top-list item (TYPE "162") with the fields the legacy asset script reads."""
    price = PricePath.create(asset.key, asset.price).at(now - now % 60)
    supply = round(1_000_000 * (1 + 100 * uniform(asset.key, 5)))
    volume = round(price * supply * (0.01 + 0.05 * uniform(asset.key, 6)), 4)
    record: dict[str, Any] = {
        "ID": asset.asset_id,
        "TYPE": "162",
        "ID_LEGACY": 1000 + asset.asset_id,
        "SYMBOL": asset.symbol,
        "URI": asset.symbol.lower(),
        "ASSET_TYPE": "BLOCKCHAIN" if rank % 3 else "TOKEN",
        "CREATED_ON": 1659708643 + asset.asset_id,
        "UPDATED_ON": now - now % 3600,
        "NAME": f"{asset.symbol} coin",
        "LOGO_URL": f"https://resources.example.invalid/asset-management/{asset.asset_id}/logo.png",
        "LAUNCH_DATE": asset.launch_ts,
        "PUBLIC_NOTICE": None if rank % 5 else "Simulated notice.",
        "ASSET_DESCRIPTION_SUMMARY": f"{asset.symbol} is a simulated asset.",
        "ASSET_DECIMAL_POINTS": 8,
        "ASSET_SYMBOL_GLYPH": asset.symbol[:1],
        "ASSET_INDUSTRIES": [{"ASSET_INDUSTRY": "PAYMENT", "JUSTIFICATION": "simulated"}],
        "CONSENSUS_MECHANISMS": [{"NAME": "PROOF_OF_WORK" if rank % 2 else "PROOF_OF_STAKE"}],
        "CONSENSUS_ALGORITHM_TYPES": [{"NAME": "SHA256", "DESCRIPTION": "simulated"}],
        "HASHING_ALGORITHM_TYPES": [{"NAME": "SHA256"}],
        "PREVIOUS_ASSET_SYMBOLS": [] if rank % 4 else [{"SYMBOL": f"OLD{asset.symbol}"}],
        "ASSET_ALTERNATIVE_IDS": [
            {"NAME": "CMC", "ID": str(asset.asset_id)},
            {"NAME": "CG", "ID": asset.symbol.lower()},
        ],
        "SUPPLY_MAX": supply * 2,
        "SUPPLY_CIRCULATING": supply,
        "PRICE_USD": price,
        "PRICE_USD_SOURCE": "cadli",
        "PRICE_USD_LAST_UPDATE_TS": now - now % 60,
        "MKT_CAP_PENALTY": 0,
        "CIRCULATING_MKT_CAP_USD": round(price * supply, 4),
        "TOTAL_MKT_CAP_USD": round(price * supply * 1.01, 4),
        "SPOT_MOVING_24_HOUR_QUOTE_VOLUME_TOP_TIER_USD": round(volume * 0.6, 4),
        "SPOT_MOVING_24_HOUR_QUOTE_VOLUME_USD": volume,
        "SPOT_MOVING_7_DAY_QUOTE_VOLUME_TOP_TIER_USD": round(volume * 4.2, 4),
        "SPOT_MOVING_7_DAY_QUOTE_VOLUME_USD": round(volume * 7, 4),
        "SPOT_MOVING_30_DAY_QUOTE_VOLUME_TOP_TIER_USD": round(volume * 18, 4),
        "SPOT_MOVING_30_DAY_QUOTE_VOLUME_USD": round(volume * 30, 4),
        "SPOT_MOVING_24_HOUR_CHANGE_PERCENTAGE_USD": round((uniform(asset.key, now // 86400) - 0.5) * 10, 6),
    }
    return record


def top_list(
    universe: Universe, params: Mapping[str, str], shift: int = 0, faults: Mapping[str, str] | None = None
) -> Reply:
    """Serve ``/asset/v1/top/list`` (paged: ``page`` >= 1, ``page_size`` 10..100; ``sort_by``/``sort_direction``).

    ``shift`` rotates the ranking by that many places (the ``rank_drift`` fault: ranks move between page requests,
    so a client paging through can skip an asset or see one twice, as the real list does under a moving sort).
    """
    page = parse_int(params.get("page"), "page", 1, 1, 1000)
    page_size = parse_int(params.get("page_size"), "page_size", 100, 10, 100)
    assert page is not None and page_size is not None
    sort_by = params.get("sort_by", "CIRCULATING_MKT_CAP_USD")
    descending = params.get("sort_direction", "DESC").upper() != "ASC"
    records = [asset_record(asset, rank, universe.now) for rank, asset in enumerate(universe.assets)]
    for record in records:
        if record["SYMBOL"] == (faults or {}).get("null_name"):
            record["NAME"] = None  # NOT NULL in cc_assets: the row cannot be stored
    if records and sort_by not in records[0]:
        raise DataApiError(400, "Bad request: unknown sort_by.", {"param": "sort_by", "values": [sort_by]})
    records.sort(key=lambda r: (r[sort_by], r["ID"]), reverse=descending)
    if records and shift:
        cut = shift % len(records)
        records = records[cut:] + records[:cut]
    for rank, record in enumerate(records, start=1):
        record["TOPLIST_BASE_RANK"] = {
            "CREATED_ON": rank,
            "LAUNCH_DATE": rank,
            "CIRCULATING_MKT_CAP_USD": rank,
            "TOTAL_MKT_CAP_USD": rank,
            "SPOT_MOVING_24_HOUR_QUOTE_VOLUME_USD": rank,
            "SPOT_MOVING_7_DAY_QUOTE_VOLUME_USD": rank,
            "SPOT_MOVING_30_DAY_QUOTE_VOLUME_USD": rank,
        }
    chunk = records[(page - 1) * page_size : page * page_size]
    stats = {"PAGE": page, "PAGE_SIZE": page_size, "TOTAL_ASSETS": len(records)}
    return data_ok({"STATS": stats, "LIST": chunk}, rows=len(chunk))


_GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "C", "D", "E")


def exchanges_general(universe: Universe, params: Mapping[str, str]) -> Reply:
    """Serve the Min API ``/data/exchanges/general`` (Data keyed by numeric exchange id, as text)."""
    tsym = params.get("tsym", "USD").upper()
    names = list(dict.fromkeys(universe.spot_markets + universe.futures_markets))
    data: dict[str, Any] = {}
    for position, market in enumerate(names):
        exchange_id = str(2400 + position)
        points = round(80 - position * 7.5, 2)
        data[exchange_id] = {
            "Id": exchange_id,
            "Name": market.capitalize(),
            "InternalName": market.capitalize(),
            "Url": f"/exchanges/{market}/overview",
            "LogoUrl": f"/media/{exchange_id}/{market}.png",
            "ItemType": ["Cryptocurrency", "Stable Coins"] if position % 2 == 0 else ["Cryptocurrency"],
            "CentralizationType": "Centralized",
            "GradePoints": points,
            "Grade": _GRADES[min(position, len(_GRADES) - 1)],
            "GradePointsSplit": {
                "Legal": 10.5,
                "KYCAndTransactionRisk": 12,
                "Team": 5.25,
                "DataProvision": 8,
                "AssetQualityAndDiversity": 6.5,
                "MarketQuality": 9,
                "Security": 14.75,
                "NegativeReportsPenalty": 0,
            },
            "AffiliateURL": f"https://www.{market}.example.invalid/",
            "Country": "Malta" if position % 2 else "Cayman Islands",
            "OrderBook": True,
            "Trades": True,
            "Description": f"{market.capitalize()} is a simulated exchange.",
            "FullAddress": "1 Simulated Street",
            "Fees": "0.1%",
            "DepositMethods": "Crypto",
            "WithdrawalMethods": "Crypto",
            "Sponsored": False,
            "Recommended": position == 0,
            "Rating": {"One": 1, "Two": 2, "Three": 3, "Four": 4, "Five": 5, "Avg": 3.67, "TotalUsers": 15},
            "SortOrder": str(position + 1),
            "TOTALVOLUME24H": {tsym: round(1e9 / (position + 1), 4)},
            "DISPLAYTOTALVOLUME24H": {tsym: f"$ {1000 / (position + 1):.2f} M"},
        }
    return min_ok(data, rows=len(data))


def summary_list(universe: Universe, params: Mapping[str, str]) -> Reply:
    """Serve ``/asset/v1/summary/list`` (``assets`` CSV filter; TYPE "168" items)."""
    wanted = {symbol.upper() for symbol in split_csv(params.get("assets"))}
    items = [
        {
            "TYPE": "168",
            "ID": asset.asset_id,
            "SYMBOL": asset.symbol,
            "ASSET_TYPE": "BLOCKCHAIN",
            "NAME": f"{asset.symbol} coin",
            "LOGO_URL": f"https://resources.example.invalid/asset-management/{asset.asset_id}/logo.png",
            "LAUNCH_DATE": asset.launch_ts,
        }
        for asset in universe.assets
        if not wanted or asset.symbol in wanted
    ]
    stats = {"TOTAL_ASSETS": len(universe.assets), "TOTAL_FILTERED_ASSETS": len(items)}
    return data_ok({"STATS": stats, "LIST": items}, rows=len(items))
