"""OHLCV rows for futures, spot and index instruments, computed bucket by bucket (see ``series``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ingestion_core.sim.series import PricePath, close_time, is_quiet, mix64, num, quiet_threshold

CandleKind = Literal["futures", "spot", "index"]

_GOLD = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_U16 = 1.0 / 65536.0


@dataclass(frozen=True, slots=True)
class TradeSeries:
    """What is needed to compute the candles of one instrument.

    Attributes:
        key: instrument key (already mixed with the history revision).
        path: the instrument's price path.
        first_ts: epoch second of the first trade (or index message).
        activity: mean trades per second.
        contracts_per_trade: mean contracts per trade.
        contract_size: base units per contract, or quote units per contract for inverse contracts.
        inverse: quote volume is ``contracts * contract_size`` and volume is derived from it.
        no_trade_probability: chance per minute of a bucket without trades (0 for indices).
    """

    key: int
    path: PricePath
    first_ts: int
    activity: float
    contracts_per_trade: int
    contract_size: float
    inverse: bool
    no_trade_probability: float


def candle_rows(
    series: TradeSeries,
    kind: CandleKind,
    identity: Mapping[str, Any],
    unit: str,
    bucket_seconds: int,
    window_start: int,
    window_end: int,
    data_end: int,
    fill: bool,
) -> list[dict[str, Any]]:
    """Return the rows for buckets ``window_start..window_end`` (bucket starts, inclusive), ascending.

    Args:
        series: the instrument's series.
        kind: record layout ("futures" adds NUMBER_OF_CONTRACTS; "index" uses message fields).
        identity: TYPE/MARKET/INSTRUMENT/... fields copied into every row after UNIT and TIMESTAMP.
        unit: "MINUTE", "HOUR" or "DAY".
        bucket_seconds: bucket length (unit seconds times aggregate).
        window_start: start of the first bucket to return (not before the first data bucket).
        window_end: start of the last bucket to return.
        data_end: last epoch second with data (now for live instruments); its bucket is partial.
        fill: include buckets without trades (filled as the API does) when true.
    """
    size = bucket_seconds
    first_ts = series.first_ts
    first_bucket = first_ts // size
    qkey = mix64(series.key ^ size)
    vkey = mix64(series.key ^ 0x5EED ^ (size << 20))
    threshold = quiet_threshold(series.no_trade_probability, size)
    path_at = series.path.at
    decimals = series.path.decimals
    if window_start // size <= first_bucket:
        prev_close = path_at(first_ts)
    else:
        prev_close = path_at(close_time(qkey, window_start - size, size, threshold, first_ts, data_end))
    volatility = min(0.05, 0.0015 * (size / 60.0) ** 0.5)
    rows: list[dict[str, Any]] = []
    append = rows.append
    for start in range(window_start, window_end + 1, size):
        bucket = start // size
        open_ = prev_close
        if threshold and is_quiet(qkey, bucket, threshold, first_bucket):
            if fill:
                row = {"UNIT": unit, "TIMESTAMP": start}
                row.update(identity)
                row.update(_quiet_fields(kind, num(open_)))
                append(row)
            continue
        low_bound = start if start > first_ts else first_ts
        stop = start + size if start + size <= data_end + 1 else data_end + 1
        close = path_at(stop)
        prev_close = close
        h1 = mix64(vkey ^ ((bucket * _GOLD) & _MASK))
        h2 = mix64(h1)
        u1, u2, u3, u4 = (
            (h1 & 0xFFFF) * _U16,
            ((h1 >> 16) & 0xFFFF) * _U16,
            ((h1 >> 32) & 0xFFFF) * _U16,
            (h1 >> 48) * _U16,
        )
        u5, u6, u7, u8 = (
            (h2 & 0xFFFF) * _U16,
            ((h2 >> 16) & 0xFFFF) * _U16,
            ((h2 >> 32) & 0xFFFF) * _U16,
            (h2 >> 48) * _U16,
        )
        span = stop - low_bound if stop > low_bound else 1
        first_px = round(open_ * (1.0 + (u1 - 0.5) * volatility * 0.3), decimals)
        high_px = round(max(first_px, close) * (1.0 + u2 * volatility * 0.5), decimals)
        low_px = round(min(first_px, close) * (1.0 - u3 * volatility * 0.5), decimals)
        first_tt = low_bound + int(u4 * span * 0.1)
        last_tt = stop - 1 - int(u5 * span * 0.1)
        if last_tt < first_tt:
            last_tt = first_tt
        high_tt = first_tt + int(u6 * (last_tt - first_tt))
        low_tt = first_tt + int(u7 * (last_tt - first_tt))
        high = high_px if high_px > open_ else open_
        low = low_px if low_px < open_ else open_
        total = max(1, int(series.activity * span * (0.5 + u8)))
        row = {"UNIT": unit, "TIMESTAMP": start}
        row.update(identity)
        if kind == "index":
            vwap = (open_ + close) * 0.5
            volume = round(total * series.contract_size * (0.5 + u6), 8)
            top_tier = round(volume * (0.4 + 0.3 * u7), 8)
            direct = round(volume * (0.1 + 0.2 * u5), 8)
            top_direct = round(min(direct, top_tier) * (0.5 + 0.5 * u4), 8)
            row.update(
                {
                    "OPEN": num(open_),
                    "HIGH": num(high),
                    "LOW": num(low),
                    "CLOSE": num(close),
                    "FIRST_MESSAGE_TIMESTAMP": first_tt,
                    "LAST_MESSAGE_TIMESTAMP": last_tt,
                    "FIRST_MESSAGE_VALUE": num(first_px),
                    "HIGH_MESSAGE_VALUE": num(high),
                    "HIGH_MESSAGE_TIMESTAMP": high_tt,
                    "LOW_MESSAGE_VALUE": num(low),
                    "LOW_MESSAGE_TIMESTAMP": low_tt,
                    "LAST_MESSAGE_VALUE": num(close),
                    "TOTAL_INDEX_UPDATES": total,
                    "VOLUME": num(volume),
                    "QUOTE_VOLUME": num(round(volume * vwap, 4)),
                    "VOLUME_TOP_TIER": num(top_tier),
                    "QUOTE_VOLUME_TOP_TIER": num(round(top_tier * vwap, 4)),
                    "VOLUME_DIRECT": num(direct),
                    "QUOTE_VOLUME_DIRECT": num(round(direct * vwap, 4)),
                    "VOLUME_TOP_TIER_DIRECT": num(top_direct),
                    "QUOTE_VOLUME_TOP_TIER_DIRECT": num(round(top_direct * vwap, 4)),
                }
            )
            append(row)
            continue
        buys = int(total * (0.3 + 0.4 * u1))
        sells = total - buys
        per_trade = series.contracts_per_trade
        contracts_buy = buys * (1 + int(per_trade * u2))
        contracts_sell = sells * (1 + int(per_trade * u3))
        vwap = (open_ + close) * 0.5
        size_c = series.contract_size
        if series.inverse:
            quote_buy: float = contracts_buy * size_c
            quote_sell: float = contracts_sell * size_c
            vol_buy = round(quote_buy / vwap, 8)
            vol_sell = round(quote_sell / vwap, 8)
        else:
            vol_buy = round(contracts_buy * size_c, 8)
            vol_sell = round(contracts_sell * size_c, 8)
            quote_buy = round(vol_buy * vwap, 6)
            quote_sell = round(vol_sell * vwap, 6)
        row["OPEN"] = num(open_)
        row["HIGH"] = num(high)
        row["LOW"] = num(low)
        row["CLOSE"] = num(close)
        if kind == "spot":
            _add_trade_stats(row, first_tt, last_tt, first_px, high_px, high_tt, low_px, low_tt, close)
        row["TOTAL_TRADES"] = total
        row["TOTAL_TRADES_BUY"] = buys
        row["TOTAL_TRADES_SELL"] = sells
        row["TOTAL_TRADES_UNKNOWN"] = 0
        if kind == "futures":
            row["NUMBER_OF_CONTRACTS"] = contracts_buy + contracts_sell
        row["VOLUME"] = num(round(vol_buy + vol_sell, 8))
        row["QUOTE_VOLUME"] = num(round(quote_buy + quote_sell, 6))
        row["VOLUME_BUY"] = num(vol_buy)
        row["QUOTE_VOLUME_BUY"] = num(quote_buy)
        row["VOLUME_SELL"] = num(vol_sell)
        row["QUOTE_VOLUME_SELL"] = num(quote_sell)
        row["VOLUME_UNKNOWN"] = 0
        row["QUOTE_VOLUME_UNKNOWN"] = 0
        if kind == "futures":
            _add_trade_stats(row, first_tt, last_tt, first_px, high_px, high_tt, low_px, low_tt, close)
        append(row)
    return rows


def _add_trade_stats(
    row: dict[str, Any],
    first_tt: int,
    last_tt: int,
    first_px: float,
    high_px: float,
    high_tt: int,
    low_px: float,
    low_tt: int,
    close: float,
) -> None:
    """Add the 8 trade-statistic keys (present only in buckets with at least one trade)."""
    row["FIRST_TRADE_TIMESTAMP"] = first_tt
    row["LAST_TRADE_TIMESTAMP"] = last_tt
    row["FIRST_TRADE_PRICE"] = num(first_px)
    row["HIGH_TRADE_PRICE"] = num(high_px)
    row["HIGH_TRADE_TIMESTAMP"] = high_tt
    row["LOW_TRADE_PRICE"] = num(low_px)
    row["LOW_TRADE_TIMESTAMP"] = low_tt
    row["LAST_TRADE_PRICE"] = num(close)


def _quiet_fields(kind: CandleKind, price: float | int) -> dict[str, Any]:
    """Fields of a filled bucket: OHLC = previous close, counts and volumes 0, trade statistics absent."""
    fields: dict[str, Any] = {"OPEN": price, "HIGH": price, "LOW": price, "CLOSE": price}
    fields.update(
        {
            "TOTAL_TRADES": 0,
            "TOTAL_TRADES_BUY": 0,
            "TOTAL_TRADES_SELL": 0,
            "TOTAL_TRADES_UNKNOWN": 0,
        }
    )
    if kind == "futures":
        fields["NUMBER_OF_CONTRACTS"] = 0
    for name in ("VOLUME", "QUOTE_VOLUME", "VOLUME_BUY", "QUOTE_VOLUME_BUY", "VOLUME_SELL", "QUOTE_VOLUME_SELL"):
        fields[name] = 0
    fields["VOLUME_UNKNOWN"] = 0
    fields["QUOTE_VOLUME_UNKNOWN"] = 0
    return fields
