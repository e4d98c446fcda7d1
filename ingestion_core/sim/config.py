"""Configuration of the CCData simulator: the synthetic universe, the rate limits and the fault knobs.

Everything the simulator serves is a pure function of a :class:`SimConfig` and the clock, so two simulators built
from equal configs serve identical histories (crash-recovery tests rely on this).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ingestion_core.sim.revisions import Revisions

RetryAfterForm = Literal["none", "seconds", "http-date"]

# The five windows CCData reports in X-RateLimit-Remaining-All (docs/ccdata-api.md §5.2).
RATE_LIMIT_WINDOWS: tuple[int, ...] = (1, 60, 3600, 86400, 2592000)


@dataclass(frozen=True, slots=True)
class PermanentFailure:
    """Make every history request for one (market, instrument) fail the same way.

    Attributes:
        market: market name (lowercase, as in the Data API).
        instrument: mapped or exchange-native instrument name; both match.
        status: HTTP status to serve (e.g. 500 for a retriable error, 400 for a fatal one).
    """

    market: str
    instrument: str
    status: int = 500


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Fault knobs. All probabilistic faults draw from one RNG seeded with ``SimConfig.seed``.

    Attributes:
        error_rates: probability per HTTP status, e.g. ``{500: 0.1, 503: 0.05}``.
        latency_seconds: fixed delay added to every API response.
        jitter_seconds: extra uniform delay in ``[0, jitter_seconds)``.
        timeout_rate: fraction of requests that hang for ``timeout_seconds`` before answering.
        timeout_seconds: how long a hanging request sleeps (longer than the client timeout).
        truncate_rate: fraction of 200 responses whose body is cut in half (invalid JSON).
        malformed_rate: fraction of 200 responses whose body is replaced by non-JSON text.
        reset_rate: fraction of requests whose connection is reset (aborted) instead of answered.
        storm_requests: the next N API requests get 429 (counted down).
        storm_seconds: every API request gets 429 for this many seconds from when it was set.
        storm_retry_after: whether storm 429s carry ``Retry-After`` and in which form.
        storm_retry_after_seconds: the value announced in ``Retry-After`` and in the reset headers.
        fail_next: the next N API requests get HTTP ``fail_next_status`` (counted down).
        fail_next_status: status used by ``fail_next``.
        revision: history version; any value other than 0 changes the values of past buckets.
        permanent_failures: (market, instrument) pairs that always fail.
        corrupt_every: when > 0, futures OHLCV history records whose bucket number (``TIMESTAMP`` / bucket length)
            is a multiple of this come with ``HIGH`` below ``LOW``, a quality-rule violation to quarantine.
        rank_drift: the asset top list's ranking rotates by this many places more with every answer (pages
            drift between requests: an asset can be skipped or served twice).
        metadata_faults: text injected into the metadata answers, keyed by what it breaks: ``long_symbol``
            (a 300-character instrument name), ``surrogate`` (a lone surrogate in an instrument name),
            ``invalid_utf8`` (an instrument name holding bytes that are not UTF-8, raw in the body), ``null_name``
            (an asset without ``NAME``); each names the market or asset it hits.
    """

    error_rates: Mapping[int, float] = field(default_factory=dict)
    latency_seconds: float = 0.0
    jitter_seconds: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    truncate_rate: float = 0.0
    malformed_rate: float = 0.0
    reset_rate: float = 0.0
    storm_requests: int = 0
    storm_seconds: float = 0.0
    storm_retry_after: RetryAfterForm = "seconds"
    storm_retry_after_seconds: int = 1
    fail_next: int = 0
    fail_next_status: int = 503
    revision: int = 0
    permanent_failures: tuple[PermanentFailure, ...] = ()
    corrupt_every: int = 0
    rank_drift: int = 0
    metadata_faults: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SimConfig:
    """The whole simulator configuration (frozen; build a new one with ``dataclasses.replace``).

    Attributes:
        seed: seed of the synthetic market and of the fault RNG.
        anchor: fixed epoch second that first-data times are defined from (never relative to "now").
        clock: returns "now" in epoch seconds; history of ACTIVE instruments runs up to it.
        futures_markets: Data API futures market names.
        instruments_per_market: perpetual contracts per futures market.
        dated_per_market: live (not yet expired) dated contracts per futures market.
        expired_per_market: most recent expired dated contracts per futures market.
        dated_period_days: spacing of the dated-contract expiry grid (anchored at ``anchor``).
        dated_listing_days: how long a dated contract trades before it expires.
        history_days: perpetual and spot first trades lie in ``[anchor - history_days, anchor]``.
        oi_delay_days: open interest starts up to this many days after trades.
        spot_markets: Data API spot market names.
        pairs_per_market: ACTIVE spot pairs per spot market.
        retired_pairs_per_market: extra spot pairs (quote USDC) that stopped trading at ``anchor + 1 day``.
        assets: number of assets in the top list (at least the spot/index bases).
        index_markets: index families served by ``/index/cc/v1/historical``.
        index_instruments: number of ``<SYMBOL>-USD`` index instruments per index market.
        no_trade_probability: chance that a bucket has no trades (filled) before the no-run rule.
        rate_limits: calls allowed per window length in seconds; ``None`` means unlimited.
        faults: initial fault knobs (can be changed at run time).
        require_api_key: when true, keyless Data API calls get 401.
        response_cache_bytes: memory for serialised history answers that can no longer change (explicit
            ``to_ts`` in a bucket closed longer ago than ``revisions`` may change it); 0 disables the cache.
        revisions: how OHLCV buckets change after they close (late trades, block revisions), as the real API's do;
            ``NO_REVISIONS`` for answers that never change once a bucket closed.
        host: interface to bind.
        port: port to bind (0 = a free port).
    """

    seed: int = 7
    anchor: int = 1_700_000_000
    clock: Callable[[], float] = time.time
    futures_markets: tuple[str, ...] = ("binance", "bybit")
    instruments_per_market: int = 5
    dated_per_market: int = 1
    expired_per_market: int = 2
    dated_period_days: int = 7
    dated_listing_days: int = 28
    history_days: int = 30
    oi_delay_days: int = 5
    spot_markets: tuple[str, ...] = ("kraken", "coinbase")
    pairs_per_market: int = 4
    retired_pairs_per_market: int = 1
    assets: int = 30
    index_markets: tuple[str, ...] = ("cadli",)
    index_instruments: int = 10
    no_trade_probability: float = 0.05
    rate_limits: Mapping[int, int] | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    require_api_key: bool = False
    response_cache_bytes: int = 64 * 1024 * 1024
    revisions: Revisions = field(default_factory=Revisions)
    host: str = "127.0.0.1"
    port: int = 0
