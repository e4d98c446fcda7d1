"""The pre/post API-usage record is best effort: one attempt, bounded by the request timeout, its cost reported.

Against the simulator over a socket in a 429 storm (no database is reached: the record fails at the API).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion_core.api.pacing import reset_pacer
from ingestion_core.pipeline.usage import record_usage
from ingestion_core.settings import Settings, load_settings
from tests.plugin_sim import SimulatorFactory

pytestmark = pytest.mark.component

RETRY_AFTER = 3  # seconds each storm 429 asks for: a retried record would wait at least this long
TIMEOUT = 1.0  # API_REQUEST_TIMEOUT_SECONDS of the test: the bound of one record


@pytest.fixture(autouse=True)
def fresh_pacer() -> Iterator[None]:
    reset_pacer()  # the process-wide pacer: the storm's pause must not leak into other tests
    yield
    reset_pacer()


def _settings(base_url: str, tmp_path: Path) -> Settings:
    api = {
        "data_api_base_url": base_url,
        "min_api_base_url": base_url,
        "max_retries": 5,
        "retry_backoff_factor": 0.01,
        "request_timeout_seconds": TIMEOUT,
        "requests_per_second": 1000,
    }
    return load_settings(env_file=None, api=api, database={"data_dir": tmp_path})


async def test_a_rate_limited_record_is_one_attempt_counted_and_never_retried(
    simulator_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await simulator_factory()
    sim.set_faults(storm_seconds=3600, storm_retry_after="seconds", storm_retry_after_seconds=RETRY_AFTER)
    settings = _settings(sim.base_url, tmp_path)

    started = time.monotonic()
    pre = await record_usage(settings, "ingest_test", "pre")
    assert time.monotonic() - started < RETRY_AFTER  # it did not wait for the storm to pass
    assert (pre.http_attempts, pre.rate_limited) == (1, 1)
    assert pre.problem is not None and "HTTP 429" in pre.problem and pre.problem.endswith("(not retried)")
    assert sim.stats()["responses_429"] == 1

    # The 429 paused the process's pacer for RETRY_AFTER seconds: the next record gives up at the request timeout
    # instead of waiting the pause out, and sends nothing.
    started = time.monotonic()
    post = await record_usage(settings, "ingest_test", "post")
    assert time.monotonic() - started < TIMEOUT + 0.5
    assert (post.http_attempts, post.rate_limited) == (0, 0)
    assert post.problem == f"ingest_test post: no answer within {TIMEOUT:g} s (not retried)"
    assert sim.stats()["responses_429"] == 1
