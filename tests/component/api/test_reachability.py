"""The door check of a run: a host that gives no HTTP answer fails in seconds, never retried; any answer passes."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from ingestion_core.api.reachability import check_reachable, forget_answers
from ingestion_core.errors import UnreachableApiError
from ingestion_core.settings import ApiSettings
from ingestion_core.sim import Simulator

pytestmark = pytest.mark.component


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    forget_answers()
    yield
    forget_answers()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there


def _settings(data: str, minimum: str | None = None) -> ApiSettings:
    # Many retries with long waits: the check must not use them.
    return ApiSettings(
        _env_file=None,
        data_api_base_url=data,
        min_api_base_url=minimum or data,
        max_retries=10,
        retry_backoff_factor=30,
    )


@pytest.mark.parametrize(
    ("kind", "url", "says"),
    [
        ("refused", "http://127.0.0.1:{closed}", "Cannot connect to host 127.0.0.1"),
        ("dns", "http://no-such-host.invalid", "no-such-host.invalid"),
        ("tls", "https://{sim}", "SSL"),
    ],
)
async def test_no_http_answer_fails_at_once_naming_the_setting(
    simulator: Simulator, kind: str, url: str, says: str
) -> None:
    target = url.format(closed=_closed_port(), sim=simulator.base_url.removeprefix("http://"))
    started = time.monotonic()
    with pytest.raises(UnreachableApiError) as caught:
        await check_reachable(_settings(target), ["data"])
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert elapsed < 5, f"{kind}: {elapsed:.1f} s"
    assert message.startswith(f"the CCData API does not answer at {target} (DATA_API_BASE_URL): ")
    assert says in message and "(not retried)" in message
    assert not caught.value.retriable


async def test_an_error_answer_proves_the_host_is_there_and_is_not_asked_twice(simulator: Simulator) -> None:
    simulator.set_faults(fail_next=1, fail_next_status=500)
    simulator.reset_stats()
    settings = _settings(simulator.base_url)
    await check_reachable(settings, ["data", "min"])  # a 500 on the first: the host answered
    assert simulator.stats()["total_calls"] == 2  # one call per API
    await check_reachable(settings, ["data", "min"])
    assert simulator.stats()["total_calls"] == 2  # answered recently: not asked again


async def test_only_the_apis_a_run_uses_are_checked(simulator: Simulator) -> None:
    settings = _settings(simulator.base_url, minimum=f"http://127.0.0.1:{_closed_port()}")
    await check_reachable(settings, ["data"])  # the Min API is unreachable, and not used
    with pytest.raises(UnreachableApiError, match="MIN_API_BASE_URL"):
        await check_reachable(settings, ["min"])
