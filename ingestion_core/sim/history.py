"""Data API history endpoints: futures OHLCV / funding rate / open interest, spot and index OHLCV.

Window semantics (docs/ccdata-api.md §6): the last row is the bucket containing ``to_ts`` (default now);
exactly ``limit`` rows when history allows, fewer when the window straddles the first bucket; 404 when ``to_ts`` is
before the first bucket. Deliberate choice where the real API is unknown: for an expired (or otherwise stopped)
instrument, a ``to_ts`` after its last data is clamped, so rows end at its last bucket (no forward fill).
Buckets are ``unit * aggregate`` seconds, aligned to multiples of that length since the epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ingestion_core.sim.candles import CandleKind, TradeSeries, candle_rows
from ingestion_core.sim.derivatives import FUNDING_INTERVAL_SECONDS, funding_rows, open_interest_rows
from ingestion_core.sim.envelope import DataApiError, Reply, data_ok, parse_bool, parse_int, split_csv
from ingestion_core.sim.revisions import NO_REVISIONS, Revisions
from ingestion_core.sim.series import Buckets, PricePath, hash_key, mix64
from ingestion_core.sim.universe import FuturesInstrument, IndexInstrument, SpotInstrument, Universe, asset_id_of

UNITS: dict[str, tuple[str, int, int]] = {
    "minutes": ("MINUTE", 60, 2000),
    "hours": ("HOUR", 3600, 2000),
    "days": ("DAY", 86400, 5000),
}


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Validated history parameters."""

    unit: str
    unit_seconds: int
    limit: int
    to_ts: int | None
    aggregate: int
    fill: bool
    groups: frozenset[str]

    @property
    def bucket_seconds(self) -> int:
        """Bucket length in seconds."""
        return self.unit_seconds * self.aggregate

    def buckets(self, identity: Mapping[str, Any], window: tuple[int, int], data_end: int) -> Buckets:
        """The buckets of ``window`` (first and last bucket start) to answer, each row starting with ``identity``."""
        first, last = window
        return Buckets(identity, self.unit, self.bucket_seconds, first, last, data_end, self.fill)

    def closed(self, now: int, settle: int = 0) -> bool:
        """True when the answer cannot change any more: an explicit ``to_ts`` whose bucket ended ``settle`` ago."""
        if self.to_ts is None:
            return False
        return (self.to_ts // self.bucket_seconds + 1) * self.bucket_seconds + settle <= now


def _closed_reply(rows: list[dict[str, Any]], query: HistoryQuery, now: int, settle: int = 0) -> Reply:
    reply = data_ok(rows, rows=len(rows))
    reply.cacheable = query.closed(now, settle)
    return reply


def parse_history_query(unit_path: str, params: Mapping[str, str]) -> HistoryQuery:
    """Validate the common history parameters (400 with ``other_info.param`` on a bad value)."""
    unit, seconds, max_limit = UNITS[unit_path]
    limit = parse_int(params.get("limit"), "limit", 30, 1, max_limit)
    to_ts = parse_int(params.get("to_ts"), "to_ts", None)
    aggregate = parse_int(params.get("aggregate"), "aggregate", 1, 1, 30)
    fill = parse_bool(params.get("fill"), "fill", True)
    parse_bool(params.get("apply_mapping"), "apply_mapping", True)
    response_format = params.get("response_format", "JSON")
    if response_format.upper() != "JSON":
        raise DataApiError(
            400,
            "The simulator only serves response_format=JSON.",
            {"param": "response_format", "values": [response_format]},
        )
    assert limit is not None and aggregate is not None
    groups = frozenset(group.upper() for group in split_csv(params.get("groups")))
    return HistoryQuery(unit, seconds, limit, to_ts, aggregate, fill, groups)


def required(params: Mapping[str, str], name: str) -> str:
    """Return a required parameter or raise a 400."""
    value = params.get(name)
    if not value:
        raise DataApiError(400, f"Bad request: the {name} parameter is required.", {"param": name, "values": []})
    return value


def unknown_market(market: str) -> DataApiError:
    """Return the 404 for a market that does not exist (text modelled on the OAS example)."""
    return DataApiError(
        404,
        f"Not found: market parameter. Value {market} not integrated yet. We list all markets in lowercase and "
        "transform the parameter sent, make sure you check the https://data-api.cryptocompare.com/ endpoint for a "
        "list of all the supported TYPEs.",
        {"param": "market", "values": [market]},
    )


def unknown_instrument(market: str, instrument: str) -> DataApiError:
    """Return the 404 for an instrument that does not exist on a market."""
    return DataApiError(
        404,
        f"Not found: instrument parameter. Value {instrument} not integrated yet on market {market}.",
        {"param": "instrument", "values": [instrument]},
    )


Item = TypeVar("Item", FuturesInstrument, SpotInstrument, IndexInstrument)


def requested_item(
    params: Mapping[str, str], markets: Collection[str], find: Callable[[str, str], Item | None]
) -> Item:
    """The instrument a history request names: 400 without ``market``/``instrument``, else 404 for an unknown one.

    Args:
        params: the request's query parameters.
        markets: the markets the endpoint serves.
        find: looks the instrument up on a market (``Universe.find_futures``...).
    """
    market = required(params, "market").lower()
    name = required(params, "instrument")
    if market not in markets:
        raise unknown_market(market)
    item = find(market, name)
    if item is None:
        raise unknown_instrument(market, name)
    return item


def resolve_window(query: HistoryQuery, first_ts: int, data_end: int, now: int, status: str) -> tuple[int, int]:
    """Return the (first, last) bucket starts to serve, or raise the 404 "before first data" error."""
    size = query.bucket_seconds
    requested = now if query.to_ts is None else query.to_ts
    last = min(requested, data_end, now) // size * size
    first_bucket = first_ts // size * size
    if last < first_bucket:
        raise DataApiError(
            404,
            f"No {query.unit} entries available on or before {requested}.",
            {
                "param": "to_ts",
                "values": [requested],
                "instrument_status": status,
                "first": first_ts,
                "last": data_end,
                "first_bucket": first_bucket,
            },
        )
    return max(first_bucket, last - (query.limit - 1) * size), last


def _candles(
    series: TradeSeries, kind: CandleKind, query: HistoryQuery, buckets: Buckets, now: int, revisions: Revisions
) -> Reply:
    """The candle answer of one series, cacheable once its last bucket settled."""
    rows = candle_rows(series, kind, buckets, now=now, revisions=revisions)
    return _closed_reply(rows, query, now, revisions.settle_seconds)


def _revision_key(key: int, revision: int) -> int:
    return key if revision == 0 else mix64(key ^ hash_key("revision", revision))


def futures_identity(item: FuturesInstrument, type_code: str, advanced: bool) -> dict[str, Any]:
    """Return the identity fields of a futures history row (MAPPING_ADVANCED only when requested)."""
    identity: dict[str, Any] = {
        "TYPE": type_code,
        "MARKET": item.market,
        "INSTRUMENT": item.instrument,
        "MAPPED_INSTRUMENT": item.mapped_instrument,
        "INDEX_UNDERLYING": item.index_underlying,
        "QUOTE_CURRENCY": item.quote_currency,
        "SETTLEMENT_CURRENCY": item.settlement_currency,
        "CONTRACT_CURRENCY": item.contract_currency,
        "DENOMINATION_TYPE": item.denomination,
    }
    if advanced:
        identity.update(item.currency_ids())
        identity["TRANSFORM_FUNCTION"] = ""
    return identity


def futures_series(item: FuturesInstrument, revision: int, no_trade_probability: float) -> TradeSeries:
    """Return the trade series of a futures instrument."""
    inverse = item.denomination == "INVERSE"
    return TradeSeries(
        key=_revision_key(item.key, revision),
        path=PricePath.create(item.key, item.base_price),
        first_ts=item.first_trade,
        activity=0.2 + (item.key & 0xFF) / 255.0,
        contracts_per_trade=20,
        contract_size=(100.0 if item.index_underlying == "BTC" else 10.0) if inverse else 0.001,
        inverse=inverse,
        no_trade_probability=no_trade_probability,
    )


def futures_history(
    universe: Universe,
    dataset: str,
    unit_path: str,
    params: Mapping[str, str],
    revision: int,
    no_trade: float,
    revisions: Revisions = NO_REVISIONS,
) -> Reply:
    """Serve ``/futures/v1/historical/[funding-rate/|open-interest/]{unit}``."""
    query = parse_history_query(unit_path, params)
    item = requested_item(params, universe.futures_markets, universe.find_futures)
    now = universe.now
    status = item.status(now)
    data_end = item.data_end(now)
    advanced = "MAPPING_ADVANCED" in query.groups
    if dataset == "ohlcv":
        first, last = resolve_window(query, item.first_trade, data_end, now, status)
        series = futures_series(item, revision, no_trade)
        buckets = query.buckets(futures_identity(item, "914", advanced), (first, last), data_end)
        return _candles(series, "futures", query, buckets, now, revisions)
    elif dataset == "funding-rate":
        if item.first_funding is None:
            raise DataApiError(
                404,
                f"Not found: funding rate is only available for PERPETUAL instruments ({item.mapped_instrument}).",
                {"param": "instrument", "values": [params["instrument"]]},
            )
        first, last = resolve_window(query, item.first_funding, data_end, now, status)
        identity = futures_identity(item, "934", advanced)
        identity["INTERVAL_MS"] = FUNDING_INTERVAL_SECONDS * 1000
        key = _revision_key(mix64(item.key ^ 0xF0F0), revision)
        rows = funding_rows(key, query.buckets(identity, (first, last), data_end), item.first_funding)
    else:
        first, last = resolve_window(query, item.first_open_interest, data_end, now, status)
        key = _revision_key(mix64(item.key ^ 0x0101), revision)
        oi_path = PricePath(key, 20_000_000.0 / item.base_price, 3, 0.3, 1.1, 2.9)
        buckets = query.buckets(futures_identity(item, "944", advanced), (first, last), data_end)
        mark = PricePath.create(item.key, item.base_price)
        rows = open_interest_rows(key, oi_path, mark, buckets, item.first_open_interest, no_trade)
    return _closed_reply(rows, query, universe.now)


def spot_history(
    universe: Universe,
    unit_path: str,
    params: Mapping[str, str],
    revision: int,
    no_trade: float,
    revisions: Revisions = NO_REVISIONS,
) -> Reply:
    """Serve ``/spot/v1/historical/{unit}`` (spot records include BASE_ID, QUOTE_ID and TRANSFORM_FUNCTION)."""
    query = parse_history_query(unit_path, params)
    item = requested_item(params, universe.spot_markets, universe.find_spot)
    data_end = item.data_end(universe.now)
    first, last = resolve_window(query, item.first_trade, data_end, universe.now, item.status(universe.now))
    identity = {
        "TYPE": "954",
        "MARKET": item.market,
        "INSTRUMENT": item.instrument,
        "MAPPED_INSTRUMENT": item.mapped_instrument,
        "BASE": item.base,
        "QUOTE": item.quote,
        "BASE_ID": asset_id_of(item.base),
        "QUOTE_ID": asset_id_of(item.quote),
        "TRANSFORM_FUNCTION": "",
    }
    series = TradeSeries(
        key=_revision_key(item.key, revision),
        path=PricePath.create(item.key, item.base_price),
        first_ts=item.first_trade,
        activity=0.05 + (item.key & 0xFF) / 1000.0,
        contracts_per_trade=10,
        contract_size=0.0001 if item.base_price > 1000 else 0.1,
        inverse=False,
        no_trade_probability=no_trade,
    )
    buckets = query.buckets(identity, (first, last), data_end)
    return _candles(series, "spot", query, buckets, universe.now, revisions)


def index_history(
    universe: Universe,
    unit_path: str,
    params: Mapping[str, str],
    revision: int,
    revisions: Revisions = NO_REVISIONS,
) -> Reply:
    """Serve ``/index/cc/v1/historical/{unit}`` (index values update continuously: no filled rows)."""
    query = parse_history_query(unit_path, params)
    item = requested_item(params, universe.index_markets, universe.find_index)
    first, last = resolve_window(query, item.first_ts, universe.now, universe.now, "ACTIVE")
    series = TradeSeries(
        key=_revision_key(item.key, revision),
        path=PricePath.create(item.key, item.base_price),
        first_ts=item.first_ts,
        activity=2.0,
        contracts_per_trade=1,
        contract_size=0.05 if item.base_price > 1000 else 50.0,
        inverse=False,
        no_trade_probability=0.0,
    )
    identity = {"TYPE": "267", "MARKET": item.market, "INSTRUMENT": item.instrument}
    buckets = query.buckets(identity, (first, last), universe.now)
    return _candles(series, "index", query, buckets, universe.now, revisions)
