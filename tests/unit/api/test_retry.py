from __future__ import annotations

import logging
import random
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aioresponses import aioresponses
from pydantic import SecretStr
from tenacity import RetryCallState

from ingestion_core.api.client import CcdataClient
from ingestion_core.api.pacing import Pacer
from ingestion_core.api.retry import SERVER_WAIT_JITTER_SECONDS, RetryWait
from ingestion_core.errors import RateLimitedError, RetriableApiError
from ingestion_core.settings import ApiSettings
from tests.unit.api.fakes import FakeTime

pytestmark = pytest.mark.unit

DATA = "http://data.test"
PATH = re.compile(r"^http://data\.test/spot/v1/markets(\?.*)?$")
OK: dict[str, Any] = {"Data": {"kraken": {}}, "Err": {}}


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def client(fake: FakeTime) -> AsyncIterator[CcdataClient]:
    api = ApiSettings(
        _env_file=None,
        data_api_base_url=DATA,
        api_key=SecretStr("retry-test-key-42"),
        max_retries=4,
        retry_backoff_factor=0.5,
        retry_max_wait_seconds=3.0,
    )
    pacer = Pacer(1000, clock=fake.monotonic, sleep=fake.pacer_sleep)
    async with CcdataClient(api, sleep=fake.retry_sleep, clock=fake.epoch, pacer=pacer, rng=random.Random(7)) as c:
        yield c


async def run_with(client: CcdataClient, first: dict[str, Any]) -> None:
    with aioresponses() as m:
        m.get(PATH, **first)
        m.get(PATH, payload=OK)
        assert await client.data_api("/spot/v1/markets") == OK["Data"]


async def test_retry_after_seconds(client: CcdataClient, fake: FakeTime) -> None:
    await run_with(client, {"status": 429, "headers": {"Retry-After": "7"}})
    [wait] = fake.retry_waits
    assert 7.0 <= wait <= 7.0 + SERVER_WAIT_JITTER_SECONDS


async def test_retry_after_http_date(client: CcdataClient, fake: FakeTime) -> None:
    # fake.epoch() is 1_700_000_000 = Tue, 14 Nov 2023 22:13:20 GMT
    await run_with(client, {"status": 503, "headers": {"Retry-After": "Tue, 14 Nov 2023 22:13:32 GMT"}})
    [wait] = fake.retry_waits
    assert 12.0 <= wait <= 12.0 + SERVER_WAIT_JITTER_SECONDS


async def test_reset_all_binding_window(client: CcdataClient, fake: FakeTime) -> None:
    headers = {
        "X-RateLimit-Remaining-All": "0, 0;window=1, 0;window=60, 50;window=3600",
        "X-RateLimit-Reset-All": "1, 1;window=1, 25;window=60, 1800;window=3600",
    }
    await run_with(client, {"status": 429, "headers": headers})
    [wait] = fake.retry_waits
    assert 25.0 <= wait <= 25.0 + SERVER_WAIT_JITTER_SECONDS
    # The pacer paused everyone for the same window: the retry found no further wait to do.
    assert fake.pacer_waits == []


async def test_no_header_exponential_backoff_with_jitter(client: CcdataClient, fake: FakeTime) -> None:
    with aioresponses() as m:
        for _ in range(4):
            m.get(PATH, status=500)
        m.get(PATH, payload=OK)
        await client.data_api("/spot/v1/markets")
    assert len(fake.retry_waits) == 4
    # factor 0.5: ceilings 0.5, 1, 2, then capped at retry_max_wait 3
    for wait, ceiling in zip(fake.retry_waits, [0.5, 1.0, 2.0, 3.0], strict=True):
        assert 0.0 <= wait <= ceiling
    assert len(set(fake.retry_waits)) == 4  # jittered, not a fixed schedule


async def test_before_sleep_logs(client: CcdataClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="ingestion_core.api")
    await run_with(client, {"status": 502})
    assert "retrying in" in caplog.text
    assert "HTTP 502: Bad Gateway (GET " in caplog.text  # the status once, then its reason (not "HTTP 502: HTTP 502")
    assert "HTTP 502: HTTP 502" not in caplog.text


def _state(exc: BaseException, attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_retry_wait_uses_exception_retry_after() -> None:
    wait = RetryWait(1.0, 5.0, random.Random(1))
    assert 120.0 <= wait(_state(RateLimitedError("x", retry_after=120.0), 1)) <= 120.1  # server waits are not capped
    assert 0.0 <= wait(_state(RetriableApiError("x"), 10)) <= 5.0
