"""Funding-rate and open-interest rows, computed bucket by bucket like the candles.

Funding: the rate changes at every 8-hour boundary (epoch-aligned) from the first funding update on; buckets
without a boundary are filled (OHLC = the current rate, ``TOTAL_FUNDING_RATE_UPDATES`` 0). Open interest: a smooth
path in settlement units, marked with the instrument's price path; quiet minutes are filled like candles.
"""

from __future__ import annotations

from typing import Any

from ingestion_core.sim.series import (
    Buckets,
    PricePath,
    close_time,
    is_quiet,
    mix64,
    num,
    quiet_threshold,
    scaled,
    uniform,
)

FUNDING_INTERVAL_SECONDS = 28_800

_GOLD = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_U16 = 1.0 / 65536.0


def funding_rate(key: int, epoch: int) -> float:
    """Return the funding rate set at boundary ``epoch * 8h`` (mostly small and positive, sometimes negative)."""
    return round((uniform(key, epoch) - 0.3) * 0.0004, 9)


def funding_rows(key: int, buckets: Buckets, first_update: int) -> list[dict[str, Any]]:
    """Return funding-rate rows for the buckets ``window_start..window_end`` (starts, inclusive).

    Args:
        key: series key (mixed with the revision).
        buckets: the window, the identity fields (TYPE "934", MARKET, ..., INTERVAL_MS) and whether buckets
            without an update are filled.
        first_update: epoch second of the first update (a multiple of 8 h).
    """
    identity, unit, size, fill = buckets.identity, buckets.unit, buckets.bucket_seconds, buckets.fill
    window_start, window_end, data_end = buckets.window_start, buckets.window_end, buckets.data_end
    interval = FUNDING_INTERVAL_SECONDS
    current = funding_rate(key, max(first_update, window_start - 1) // interval)
    rows: list[dict[str, Any]] = []
    for start in range(window_start, window_end + 1, size):
        low_bound = max(start, first_update)
        stop = min(start + size, data_end + 1)
        first_epoch = -(-low_bound // interval)
        last_epoch = (stop - 1) // interval
        open_ = current
        high = low = open_
        updates = 0
        for epoch in range(first_epoch, last_epoch + 1):
            rate = funding_rate(key, epoch)
            updates += 1
            high = rate if rate > high else high
            low = rate if rate < low else low
            current = rate
        if updates == 0 and not fill:
            continue
        row = {"UNIT": unit, "TIMESTAMP": start}
        row.update(identity)
        row["OPEN"] = num(open_)
        row["HIGH"] = num(high)
        row["LOW"] = num(low)
        row["CLOSE"] = num(current)
        row["TOTAL_FUNDING_RATE_UPDATES"] = updates
        rows.append(row)
    return rows


_QUOTE_SCALE = 10_000  # open interest in quote currency, 1e-4 units


def _oi_point(oi_path: PricePath, mark_path: PricePath, t: int) -> tuple[int, int, int]:
    """Return (settlement ticks, mark ticks, quote units) at ``t``."""
    settlement = oi_path.ticks(t)
    mark = mark_path.ticks(t)
    return settlement, mark, settlement * mark * _QUOTE_SCALE // (oi_path.scale * mark_path.scale)


def open_interest_rows(
    key: int,
    oi_path: PricePath,
    mark_path: PricePath,
    buckets: Buckets,
    first_update: int,
    no_update_probability: float,
) -> list[dict[str, Any]]:
    """Return open-interest rows for the buckets ``window_start..window_end`` (starts, inclusive).

    Args:
        key: series key (mixed with the revision).
        oi_path: open interest in settlement units over time.
        mark_path: mark price over time (the instrument's price path).
        buckets: the window, the identity fields (TYPE "944", MARKET, ...) and whether buckets without an update
            are filled.
        first_update: epoch second of the first OI update.
        no_update_probability: chance per minute of a bucket without updates.
    """
    identity, unit, size, fill = buckets.identity, buckets.unit, buckets.bucket_seconds, buckets.fill
    window_start, window_end, data_end = buckets.window_start, buckets.window_end, buckets.data_end
    first_bucket = first_update // size
    qkey = mix64(key ^ size ^ 0x01)
    vkey = mix64(key ^ 0x0123 ^ (size << 20))
    threshold = quiet_threshold(no_update_probability, size)
    if window_start // size <= first_bucket:
        prev = _oi_point(oi_path, mark_path, first_update)
    else:
        prev = _oi_point(
            oi_path, mark_path, close_time(qkey, window_start - size, size, threshold, first_update, data_end)
        )
    set_scale, mark_scale = oi_path.scale, mark_path.scale
    rows: list[dict[str, Any]] = []
    for start in range(window_start, window_end + 1, size):
        bucket = start // size
        o_set, o_mark, o_quote = prev
        quiet = threshold > 0 and is_quiet(qkey, bucket, threshold, first_bucket)
        if quiet:
            if not fill:
                continue
            c_set, c_mark, c_quote = prev
            hs, hsm, hm, hms, hq, hqm = o_set, o_mark, o_mark, o_set, o_quote, o_mark
            ls, lsm, lm, lms, lq, lqm = o_set, o_mark, o_mark, o_set, o_quote, o_mark
            updates = 0
        else:
            stop = min(start + size, data_end + 1)
            c_set, c_mark, c_quote = _oi_point(oi_path, mark_path, stop)
            h = mix64(vkey ^ ((bucket * _GOLD) & _MASK))
            u1, u2, u3, u4 = (
                (h & 0xFFFF) * _U16,
                ((h >> 16) & 0xFFFF) * _U16,
                ((h >> 32) & 0xFFFF) * _U16,
                (h >> 48) * _U16,
            )
            spread = min(0.03, 0.0008 * (size / 60.0) ** 0.5)
            hs = int(max(o_set, c_set) * (1 + u1 * spread) + 0.5)
            ls = int(min(o_set, c_set) * (1 - u2 * spread) + 0.5)
            hm = int(max(o_mark, c_mark) * (1 + u3 * spread) + 0.5)
            lm = int(min(o_mark, c_mark) * (1 - u4 * spread) + 0.5)
            hsm, lsm = c_mark if u3 > 0.5 else o_mark, o_mark if u4 > 0.5 else c_mark
            hms, lms = c_set if u1 > 0.5 else o_set, o_set if u2 > 0.5 else c_set
            hq = int(
                max(o_quote, c_quote, hs * hsm * _QUOTE_SCALE // (set_scale * mark_scale)) * (1 + u2 * spread * 0.1)
            )
            lq = int(
                min(o_quote, c_quote, ls * lsm * _QUOTE_SCALE // (set_scale * mark_scale)) * (1 - u1 * spread * 0.1)
            )
            hqm, lqm = hsm, lsm
            updates = max(1, int((stop - max(start, first_update)) / 20.0 * (0.5 + u4)))
            prev = (c_set, c_mark, c_quote)
        row = {"UNIT": unit, "TIMESTAMP": start}
        row.update(identity)
        row.update(
            {
                "OPEN_SETTLEMENT": scaled(o_set, set_scale),
                "OPEN_MARK_PRICE": scaled(o_mark, mark_scale),
                "OPEN_QUOTE": scaled(o_quote, _QUOTE_SCALE),
                "HIGH_SETTLEMENT": scaled(hs, set_scale),
                "HIGH_SETTLEMENT_MARK_PRICE": scaled(hsm, mark_scale),
                "HIGH_MARK_PRICE": scaled(hm, mark_scale),
                "HIGH_MARK_PRICE_SETTLEMENT": scaled(hms, set_scale),
                "HIGH_QUOTE": scaled(hq, _QUOTE_SCALE),
                "HIGH_QUOTE_MARK_PRICE": scaled(hqm, mark_scale),
                "LOW_SETTLEMENT": scaled(ls, set_scale),
                "LOW_SETTLEMENT_MARK_PRICE": scaled(lsm, mark_scale),
                "LOW_MARK_PRICE": scaled(lm, mark_scale),
                "LOW_MARK_PRICE_SETTLEMENT": scaled(lms, set_scale),
                "LOW_QUOTE": scaled(lq, _QUOTE_SCALE),
                "LOW_QUOTE_MARK_PRICE": scaled(lqm, mark_scale),
                "CLOSE_SETTLEMENT": scaled(c_set, set_scale),
                "CLOSE_MARK_PRICE": scaled(c_mark, mark_scale),
                "CLOSE_QUOTE": scaled(c_quote, _QUOTE_SCALE),
                "TOTAL_OPEN_INTEREST_UPDATES": updates,
            }
        )
        rows.append(row)
    return rows
