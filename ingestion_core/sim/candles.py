"""OHLCV rows for futures, spot and index instruments, computed bucket by bucket (see ``series``).

Prices are integer ticks and volumes integer units (1e-8 base, 1e-6 quote) until they are written, so sums such as
``VOLUME == VOLUME_BUY + VOLUME_SELL + VOLUME_UNKNOWN`` hold exactly in units, and an integral value is emitted as a
JSON integer (``"OPEN": 103750``) by a cheap modulo instead of float inspection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ingestion_core.sim.revisions import NO_REVISIONS, Revisions
from ingestion_core.sim.series import Buckets, PricePath, close_time, is_quiet, mix64, quiet_threshold

CandleKind = Literal["futures", "spot", "index"]

_GOLD = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_U16 = 1.0 / 65536.0
_BASE_UNITS = 100_000_000  # volumes in 1e-8 of the base currency
_QUOTE_UNITS = 1_000_000  # quote volumes in 1e-6 of the quote currency


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
    buckets: Buckets,
    *,
    now: int | None = None,
    revisions: Revisions = NO_REVISIONS,
) -> list[dict[str, Any]]:
    """Return the rows for buckets ``window_start..window_end`` (bucket starts, inclusive), ascending.

    Args:
        series: the instrument's series.
        kind: record layout ("futures" adds NUMBER_OF_CONTRACTS; "index" uses message fields).
        buckets: the window, the identity fields and whether buckets without trades are filled.
        now: the moment of the answer (default ``data_end``): a bucket that closed shortly before may not show all
            its trades yet (``revisions``).
        revisions: how closed buckets change after they close.
    """
    identity, unit, size, fill = buckets.identity, buckets.unit, buckets.bucket_seconds, buckets.fill
    window_start, window_end, data_end = buckets.window_start, buckets.window_end, buckets.data_end
    first_ts = series.first_ts
    first_bucket = first_ts // size
    qkey = mix64(series.key ^ size)
    vkey = mix64(series.key ^ 0x5EED ^ (size << 20))
    threshold = quiet_threshold(series.no_trade_probability, size)
    ticks_at = series.path.ticks
    scale = series.path.scale
    if window_start // size <= first_bucket:
        prev_close = ticks_at(first_ts)
    else:
        prev_close = ticks_at(close_time(qkey, window_start - size, size, threshold, first_ts, data_end))
    volatility = min(0.05, 0.0015 * (size / 60.0) ** 0.5)
    spread_first, spread_high = volatility * 0.3, volatility * 0.5
    per_trade = series.contracts_per_trade
    if series.inverse:
        contract_units = int(series.contract_size * _QUOTE_UNITS + 0.5)
    else:
        contract_units = int(series.contract_size * _BASE_UNITS + 0.5)
    # quote units = base units * price ticks / quote_divisor; base units = quote units * base_divisor / price ticks
    quote_divisor = 2 * scale * (_BASE_UNITS // _QUOTE_UNITS)
    base_divisor = 2 * scale * (_BASE_UNITS // _QUOTE_UNITS)
    is_futures = kind == "futures"
    moment = data_end if now is None else now
    rows: list[dict[str, Any]] = []
    append = rows.append
    for start in range(window_start, window_end + 1, size):
        bucket = start // size
        o = prev_close
        if threshold and is_quiet(qkey, bucket, threshold, first_bucket):
            if fill:
                row = {"UNIT": unit, "TIMESTAMP": start}
                row.update(identity)
                row.update(_quiet_fields(kind, o // scale if o % scale == 0 else o / scale))
                append(row)
            continue
        low_bound = start if start > first_ts else first_ts
        stop = start + size if start + size <= data_end + 1 else data_end + 1
        c = ticks_at(stop)
        prev_close = c
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
        fp = int(o * (1.0 + (u1 - 0.5) * spread_first) + 0.5)
        hp = int((fp if fp > c else c) * (1.0 + u2 * spread_high) + 0.5)
        lp = int((fp if fp < c else c) * (1.0 - u3 * spread_high) + 0.5)
        first_tt = low_bound + int(u4 * span * 0.1)
        last_tt = stop - 1 - int(u5 * span * 0.1)
        if last_tt < first_tt:
            last_tt = first_tt
        high_tt = first_tt + int(u6 * (last_tt - first_tt))
        low_tt = first_tt + int(u7 * (last_tt - first_tt))
        high = hp if hp > o else o
        low = lp if lp < o else o
        total = max(1, int(series.activity * span * (0.5 + u8)))
        seen = revisions.seen(series.key, start, size, moment)
        if seen < 1.0:  # late trades still to come: fewer trades (and volume) than it will finally show
            total = max(1, int(total * seen))
        row = {"UNIT": unit, "TIMESTAMP": start}
        row.update(identity)
        open_v = o // scale if o % scale == 0 else o / scale
        close_v = c // scale if c % scale == 0 else c / scale
        high_v = high // scale if high % scale == 0 else high / scale
        low_v = low // scale if low % scale == 0 else low / scale
        if kind == "index":
            _index_fields(row, series, o + c, scale, total, (u4, u5, u6, u7), (open_v, high_v, low_v, close_v))
            row["FIRST_MESSAGE_TIMESTAMP"] = first_tt
            row["LAST_MESSAGE_TIMESTAMP"] = last_tt
            row["FIRST_MESSAGE_VALUE"] = fp // scale if fp % scale == 0 else fp / scale
            row["HIGH_MESSAGE_TIMESTAMP"] = high_tt
            row["LOW_MESSAGE_TIMESTAMP"] = low_tt
            append(row)
            continue
        buys = int(total * (0.3 + 0.4 * u1))
        sells = total - buys
        contracts_buy = buys * (1 + int(per_trade * u2))
        contracts_sell = sells * (1 + int(per_trade * u3))
        price2 = o + c  # twice the bucket's mean price, in ticks
        if series.inverse:
            quote_buy = contracts_buy * contract_units
            quote_sell = contracts_sell * contract_units
            vol_buy = quote_buy * base_divisor // price2
            vol_sell = quote_sell * base_divisor // price2
        else:
            vol_buy = contracts_buy * contract_units
            vol_sell = contracts_sell * contract_units
            quote_buy = vol_buy * price2 // quote_divisor
            quote_sell = vol_sell * price2 // quote_divisor
        vol = vol_buy + vol_sell
        quote = quote_buy + quote_sell
        row["OPEN"] = open_v
        row["HIGH"] = high_v
        row["LOW"] = low_v
        row["CLOSE"] = close_v
        stats = {
            "FIRST_TRADE_TIMESTAMP": first_tt,
            "LAST_TRADE_TIMESTAMP": last_tt,
            "FIRST_TRADE_PRICE": fp // scale if fp % scale == 0 else fp / scale,
            "HIGH_TRADE_PRICE": hp // scale if hp % scale == 0 else hp / scale,
            "HIGH_TRADE_TIMESTAMP": high_tt,
            "LOW_TRADE_PRICE": lp // scale if lp % scale == 0 else lp / scale,
            "LOW_TRADE_TIMESTAMP": low_tt,
            "LAST_TRADE_PRICE": close_v,
        }
        if not is_futures:
            row.update(stats)
        row["TOTAL_TRADES"] = total
        row["TOTAL_TRADES_BUY"] = buys
        row["TOTAL_TRADES_SELL"] = sells
        row["TOTAL_TRADES_UNKNOWN"] = 0
        if is_futures:
            row["NUMBER_OF_CONTRACTS"] = contracts_buy + contracts_sell
        row["VOLUME"] = vol // _BASE_UNITS if vol % _BASE_UNITS == 0 else vol / _BASE_UNITS
        row["QUOTE_VOLUME"] = quote // _QUOTE_UNITS if quote % _QUOTE_UNITS == 0 else quote / _QUOTE_UNITS
        row["VOLUME_BUY"] = vol_buy // _BASE_UNITS if vol_buy % _BASE_UNITS == 0 else vol_buy / _BASE_UNITS
        row["QUOTE_VOLUME_BUY"] = (
            quote_buy // _QUOTE_UNITS if quote_buy % _QUOTE_UNITS == 0 else quote_buy / _QUOTE_UNITS
        )
        row["VOLUME_SELL"] = vol_sell // _BASE_UNITS if vol_sell % _BASE_UNITS == 0 else vol_sell / _BASE_UNITS
        row["QUOTE_VOLUME_SELL"] = (
            quote_sell // _QUOTE_UNITS if quote_sell % _QUOTE_UNITS == 0 else quote_sell / _QUOTE_UNITS
        )
        row["VOLUME_UNKNOWN"] = 0
        row["QUOTE_VOLUME_UNKNOWN"] = 0
        if is_futures:
            row.update(stats)
        append(row)
    return rows


def _units(value: int, scale: int) -> int | float:
    return value // scale if value % scale == 0 else value / scale


def _index_fields(
    row: dict[str, Any],
    series: TradeSeries,
    price2: int,
    scale: int,
    total: int,
    draws: tuple[float, float, float, float],
    ohlc: tuple[int | float, int | float, int | float, int | float],
) -> None:
    """Add the index record's OHLC, message values and volume fields (index values update continuously)."""
    u4, u5, u6, u7 = draws
    open_v, high_v, low_v, close_v = ohlc
    volume = int(total * series.contract_size * (0.5 + u6) * _BASE_UNITS)
    top_tier = int(volume * (0.4 + 0.3 * u7))
    direct = int(volume * (0.1 + 0.2 * u5))
    top_direct = int(min(direct, top_tier) * (0.5 + 0.5 * u4))
    quote_divisor = 2 * scale * (_BASE_UNITS // _QUOTE_UNITS)
    row.update(
        {
            "OPEN": open_v,
            "HIGH": high_v,
            "LOW": low_v,
            "CLOSE": close_v,
            "FIRST_MESSAGE_TIMESTAMP": 0,
            "LAST_MESSAGE_TIMESTAMP": 0,
            "FIRST_MESSAGE_VALUE": open_v,
            "HIGH_MESSAGE_VALUE": high_v,
            "HIGH_MESSAGE_TIMESTAMP": 0,
            "LOW_MESSAGE_VALUE": low_v,
            "LOW_MESSAGE_TIMESTAMP": 0,
            "LAST_MESSAGE_VALUE": close_v,
            "TOTAL_INDEX_UPDATES": total,
            "VOLUME": _units(volume, _BASE_UNITS),
            "QUOTE_VOLUME": _units(volume * price2 // quote_divisor, _QUOTE_UNITS),
            "VOLUME_TOP_TIER": _units(top_tier, _BASE_UNITS),
            "QUOTE_VOLUME_TOP_TIER": _units(top_tier * price2 // quote_divisor, _QUOTE_UNITS),
            "VOLUME_DIRECT": _units(direct, _BASE_UNITS),
            "QUOTE_VOLUME_DIRECT": _units(direct * price2 // quote_divisor, _QUOTE_UNITS),
            "VOLUME_TOP_TIER_DIRECT": _units(top_direct, _BASE_UNITS),
            "QUOTE_VOLUME_TOP_TIER_DIRECT": _units(top_direct * price2 // quote_divisor, _QUOTE_UNITS),
        }
    )


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
