from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aioresponses import aioresponses
from pydantic import SecretStr

from ingestion_core.api import catalog
from ingestion_core.api.classify import NoDataBefore
from ingestion_core.api.client import CcdataClient, HistoryPage, check_limit, encode_params
from ingestion_core.api.pacing import Pacer
from ingestion_core.errors import (
    ConfigurationError,
    DataError,
    FatalApiError,
    ParameterError,
    RateLimitedError,
    RetriableApiError,
)
from ingestion_core.intervals import Interval, interval_info
from ingestion_core.settings import ApiSettings
from tests.unit.api.fakes import FakeTime

pytestmark = pytest.mark.unit

DATA = "http://data.test"
MIN = "http://min.test"
KEY = "unit-test-key-0123456789"


def settings(**extra: Any) -> ApiSettings:
    values: dict[str, Any] = {
        "data_api_base_url": DATA,
        "min_api_base_url": MIN,
        "api_key": SecretStr(KEY),
        "max_retries": 3,
        "retry_backoff_factor": 1.0,
        "retry_max_wait_seconds": 10.0,
        "malformed_body_retries": 2,
    }
    values.update(extra)
    return ApiSettings(_env_file=None, **values)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def client(fake: FakeTime) -> AsyncIterator[CcdataClient]:
    pacer = Pacer(1000, clock=fake.monotonic, sleep=fake.pacer_sleep)
    async with CcdataClient(settings(), sleep=fake.retry_sleep, clock=fake.epoch, pacer=pacer) as c:
        yield c


def url(path: str, base: str = DATA) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(base + path)}(\?.*)?$")


def sent(m: aioresponses) -> list[tuple[str, dict[str, Any]]]:
    return [(str(key[1]), call.kwargs) for key, calls in m.requests.items() for call in calls]


OK_ROWS: dict[str, Any] = {"Data": [{"TIMESTAMP": 3600}, {"TIMESTAMP": 7200}], "Err": {}}


FUTURES = {"market": "binance", "instrument": "BTC-USDT-VANILLA-PERPETUAL"}


async def test_history_sends_key_header_and_params(client: CcdataClient) -> None:
    with aioresponses() as m:
        m.get(url("/futures/v1/historical/hours"), payload=OK_ROWS)
        page = await client.history(
            "/futures/v1/historical/hours",
            interval="1h",
            identity=FUTURES,
            to_ts=7200,
            limit=2,
            params={"fill": "true", "apply_mapping": "true"},
        )
    assert page == HistoryPage(rows=OK_ROWS["Data"], rate_limit=None)
    [(_, kwargs)] = sent(m)
    assert kwargs["headers"]["Authorization"] == f"Apikey {KEY}"
    assert kwargs["params"] == {
        "market": "binance",
        "instrument": "BTC-USDT-VANILLA-PERPETUAL",
        "to_ts": "7200",
        "limit": "2",
        "fill": "true",
        "apply_mapping": "true",
    }
    assert client.calls == 1 and client.attempts == 1
    assert len(client.latencies) == 1 and client.rate_limited == 0


async def test_history_returns_rate_limit_windows_and_keeps_the_lowest(client: CcdataClient) -> None:
    headers = {"X-RateLimit-Remaining-All": "9, 9;window=1, 99;window=60", "X-RateLimit-Reset-All": "1;window=1"}
    lower = {"X-RateLimit-Remaining-All": "5, 5;window=1, 120;window=60", "X-RateLimit-Reset-All": "1;window=1"}
    identity = {"market": "kraken", "instrument": "BTC-USD"}
    with aioresponses() as m:
        m.get(url("/spot/v1/historical/days"), payload=OK_ROWS, headers=headers)
        m.get(url("/spot/v1/historical/days"), payload=OK_ROWS, headers=lower)
        for _ in range(2):
            page = await client.history("/spot/v1/historical/days", interval="1d", identity=identity, to_ts=7, limit=50)
    assert isinstance(page, HistoryPage)
    assert page.rate_limit is not None
    assert page.rate_limit.window(60) is not None
    assert client.lowest_remaining == {1: 5, 60: 99}


async def test_no_data_before_is_a_value(client: CcdataClient) -> None:
    body = {"Data": {}, "Err": {"type": 2, "message": "No HOUR entries available on or before 100"}}
    with aioresponses() as m:
        m.get(url("/futures/v1/historical/hours"), status=404, payload=body)
        outcome = await client.history(
            "/futures/v1/historical/hours",
            interval="1h",
            identity={"market": "b", "instrument": "x"},
            to_ts=100,
            limit=1,
        )
    assert outcome == NoDataBefore(first_ts=None, message="No HOUR entries available on or before 100")
    assert client.attempts == 1


@pytest.mark.parametrize(("interval", "limit"), [("1m", 2001), ("1h", 2001), ("1d", 5001), ("1d", 0)])
async def test_limit_checked_before_any_call(client: CcdataClient, interval: Interval, limit: int) -> None:
    path = f"/futures/v1/historical/{interval_info(interval).unit}"
    with aioresponses() as m, pytest.raises(ParameterError, match=f"limit={limit}"):
        await client.history(path, interval=interval, identity={"market": "b", "instrument": "x"}, to_ts=1, limit=limit)
    assert not m.requests


def test_check_limit_bounds_come_from_the_interval_table() -> None:
    check_limit("1d", 5000)
    check_limit("1m", 2000)
    check_limit("1d", 2000, min_api=True)
    with pytest.raises(ParameterError, match="Min API"):
        check_limit("1d", 2001, min_api=True)
    with pytest.raises(ValueError, match="unknown interval"):
        check_limit("5m", 1)  # type: ignore[arg-type]


def test_encode_params() -> None:
    assert encode_params({"a": True, "b": False, "c": ("ACTIVE", "EXPIRED"), "d": None, "e": 5}) == {
        "a": "true",
        "b": "false",
        "c": "ACTIVE,EXPIRED",
        "e": "5",
    }


async def test_fatal_is_not_retried(client: CcdataClient, fake: FakeTime) -> None:
    with aioresponses() as m:
        m.get(url("/futures/v1/markets"), status=401, payload={"Data": {}, "Err": {"message": "API key required"}})
        with pytest.raises(FatalApiError, match="API key required") as info:
            await catalog.markets(client, "futures")
    assert info.value.status == 401
    assert client.attempts == 1 and fake.retry_waits == []


async def test_retries_5xx_then_succeeds(client: CcdataClient, fake: FakeTime) -> None:
    with aioresponses() as m:
        m.get(url("/futures/v1/markets"), status=502, body="bad gateway")
        m.get(url("/futures/v1/markets"), exception=TimeoutError())
        m.get(url("/futures/v1/markets"), payload={"Data": {"binance": {}}, "Err": {}})
        data = await catalog.markets(client, "futures")
    assert data == {"binance": {}}
    assert client.calls == 1 and client.attempts == 3
    assert len(fake.retry_waits) == 2


async def test_retries_exhausted_reraises_last(client: CcdataClient, fake: FakeTime) -> None:
    with aioresponses() as m:
        m.get(url("/futures/v1/markets"), status=503, repeat=True)
        with pytest.raises(RetriableApiError) as info:
            await catalog.markets(client, "futures")
    assert info.value.status == 503
    assert client.attempts == 4  # max_retries=3


async def test_malformed_body_retried_then_data_error(client: CcdataClient, fake: FakeTime) -> None:
    with aioresponses() as m:
        m.get(url("/futures/v1/historical/hours"), body='{"Data": [{"TIMES', repeat=True)
        with pytest.raises(DataError, match="malformed") as info:
            await client.history(
                "/futures/v1/historical/hours",
                interval="1h",
                identity={"market": "b", "instrument": "x"},
                to_ts=1,
                limit=1,
            )
    assert client.attempts == 3  # 1 + malformed_body_retries
    assert DATA + "/futures/v1/historical/hours" in str(info.value)


async def test_history_data_must_be_a_list(client: CcdataClient) -> None:
    with aioresponses() as m:
        m.get(url("/futures/v1/historical/hours"), payload={"Data": {}, "Err": {}})
        m.get(url("/futures/v1/historical/hours"), payload=OK_ROWS)
        page = await client.history(
            "/futures/v1/historical/hours", interval="1h", identity={"market": "b", "instrument": "x"}, to_ts=1, limit=2
        )
    assert isinstance(page, HistoryPage) and len(page.rows) == 2


async def test_instrument_status_comma_separated(client: CcdataClient) -> None:
    with aioresponses() as m:
        m.get(url("/futures/v1/markets/instruments"), payload={"Data": {}, "Err": {}})
        m.get(url("/spot/v1/markets/instruments"), payload={"Data": {}, "Err": {}})
        await catalog.instruments(client, "futures", "binance", ("ACTIVE", "expired", "READY_FOR_DECOMMISSIONING"))
        await catalog.instruments(client, "spot", "kraken")
    params = [kwargs["params"] for _, kwargs in sent(m)]
    assert {"market": "binance", "instrument_status": "ACTIVE,EXPIRED,READY_FOR_DECOMMISSIONING"} in params
    assert {"market": "kraken", "instrument_status": "ACTIVE"} in params


async def test_unknown_instrument_status_rejected(client: CcdataClient) -> None:
    with pytest.raises(ParameterError, match="instrument_status"):
        await catalog.instruments(client, "futures", "binance", ("ALIVE",))


async def test_asset_top_list_pages_until_total(client: CcdataClient) -> None:
    def page(n: int, count: int) -> dict[str, Any]:
        items = [{"ID": n * 100 + i} for i in range(count)]
        return {"Data": {"STATS": {"PAGE": n, "PAGE_SIZE": 10, "TOTAL_ASSETS": 25}, "LIST": items}, "Err": {}}

    with aioresponses() as m:
        m.get(url("/asset/v1/top/list"), payload=page(1, 10))
        m.get(url("/asset/v1/top/list"), payload=page(2, 10))
        m.get(url("/asset/v1/top/list"), payload=page(3, 5))
        assets = await catalog.asset_top_list(client, page_size=10)
    assert len(assets) == 25
    assert client.calls == 3


async def test_asset_top_list_limit_past_one_page_takes_the_pages_it_needs(client: CcdataClient) -> None:
    def page(n: int) -> dict[str, Any]:
        items = [{"ID": (n - 1) * 100 + i} for i in range(100)]
        return {"Data": {"STATS": {"PAGE": n, "PAGE_SIZE": 100, "TOTAL_ASSETS": 5000}, "LIST": items}, "Err": {}}

    with aioresponses() as m:
        for n in (1, 2, 3):
            m.get(url("/asset/v1/top/list"), payload=page(n))
        assets = await catalog.asset_top_list(client, page_size=100, limit=250)
    assert [a["ID"] for a in assets] == list(range(250))  # legacy failed above 100; here: 3 pages, cut at 250
    assert client.calls == 3
    pages = [kwargs["params"]["page"] for _, kwargs in sent(m)]
    assert [str(p) for p in pages] == ["1", "2", "3"]


async def test_asset_top_list_stops_on_empty_list(client: CcdataClient) -> None:
    empty = {"Data": {"STATS": {"TOTAL_ASSETS": 1000}, "LIST": []}, "Err": {}}
    with aioresponses() as m:
        m.get(url("/asset/v1/top/list"), payload={"Data": {"STATS": {"TOTAL_ASSETS": 1000}, "LIST": [{}]}, "Err": {}})
        m.get(url("/asset/v1/top/list"), payload=empty)
        assets = await catalog.asset_top_list(client, page_size=10)
    assert assets == [{}]


async def test_exchanges_general_and_rate_limit_status(client: CcdataClient) -> None:
    with aioresponses() as m:
        m.get(url("/data/exchanges/general", MIN), payload={"Response": "Success", "Data": {"1": {"Name": "X"}}})
        m.get(url("/admin/v2/rate/limit"), payload={"Data": {"TYPE": "3000"}, "Err": {}})
        assert await catalog.exchanges_general(client) == {"1": {"Name": "X"}}
        assert await catalog.rate_limit_status(client) == {"TYPE": "3000"}
    for _, kwargs in sent(m):
        assert kwargs["headers"]["Authorization"] == f"Apikey {KEY}"


async def test_min_history_retries_type_99_and_sends_min_api_params(client: CcdataClient, fake: FakeTime) -> None:
    body = {"Response": "Success", "Type": 100, "Data": {"TimeFrom": 0, "TimeTo": 86400, "Data": [{"time": 0}, {}]}}
    limited = {"Response": "Error", "Message": "over", "Type": 99, "Data": {}}
    identity = {"fsym": "BTC", "tsym": "USD", "e": "Kraken"}
    with aioresponses() as m:
        m.get(url("/data/v2/histoday", MIN), payload=limited)
        m.get(url("/data/v2/histoday", MIN), payload=body)
        page = await client.min_history("/data/v2/histoday", interval="1d", identity=identity, to_ts=86400, limit=1)
    assert len(page.rows) == 2
    assert client.attempts == 2 and len(fake.retry_waits) == 1 and client.rate_limited == 1
    params = next(kwargs["params"] for _, kwargs in sent(m))
    assert params == {"fsym": "BTC", "tsym": "USD", "limit": "1", "toTs": "86400", "e": "Kraken"}
    with pytest.raises(ParameterError):
        await client.min_history("/data/v2/histominute", interval="1m", identity=identity, to_ts=1, limit=2001)


async def test_min_api_bad_parameter_is_fatal(client: CcdataClient) -> None:
    bad = {"Response": "Error", "Message": "fsym param seems invalid.", "Type": 2, "Data": {}}
    with aioresponses() as m:
        m.get(url("/data/v2/histohour", MIN), payload=bad)
        with pytest.raises(FatalApiError, match="fsym param seems invalid"):
            await client.min_history(
                "/data/v2/histohour", interval="1h", identity={"fsym": "NOPE", "tsym": "USD"}, to_ts=1, limit=10
            )


async def test_rate_limited_error_type(client: CcdataClient) -> None:
    with aioresponses() as m:
        m.get(url("/spot/v1/markets"), status=429, repeat=True)
        with pytest.raises(RateLimitedError):
            await catalog.markets(client, "spot")


async def test_not_open_is_a_configuration_error(fake: FakeTime) -> None:
    client = CcdataClient(settings(), pacer=Pacer(10, clock=fake.monotonic, sleep=fake.pacer_sleep))
    with pytest.raises(ConfigurationError, match="not open"):
        await client.data_api("/spot/v1/markets")


def test_default_pacer_is_process_wide() -> None:
    a = CcdataClient(settings(requests_per_second=7))
    b = CcdataClient(settings(requests_per_second=7))
    assert a.pacer is b.pacer
