"""Rate limiting, every fault knob, the admin routes and the ways to run the simulator."""

from __future__ import annotations

import asyncio
import email.utils
import json
import subprocess
import sys
import time
import urllib.request
from typing import Any

import aiohttp
import pytest

from ingestion_core.sim import ManualClock, PermanentFailure, SimConfig, Simulator, SimulatorThread
from tests.component.sim.conftest import SimClient
from tests.plugin_sim import SIM_NOW, SimulatorFactory, small_config

pytestmark = pytest.mark.component

MARKETS = "/futures/v1/markets"


def perp(sim: Simulator) -> str:
    return next(f.mapped_instrument for f in sim.universe.futures if f.market == "binance" and f.expiry is None)


def windows(header: str) -> dict[int, int]:
    parts = header.split(", ")[1:]
    return {int(p.split(";window=")[1]): int(p.split(";")[0]) for p in parts}


async def test_rate_limit_headers_on_every_response_and_429(
    simulator_factory: SimulatorFactory, client: SimClient
) -> None:
    clock = ManualClock(SIM_NOW + 0.1)
    sim = await simulator_factory(clock=clock, rate_limits={1: 3, 60: 5})
    answers = [await client.get(sim.base_url, MARKETS, headers={"authorization": "Apikey k1"}) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert [windows(a.headers["X-RateLimit-Remaining-All"])[1] for a in answers] == [2, 1, 0, 0]
    assert answers[3].json["Err"]["message"]
    assert windows(answers[3].headers["X-RateLimit-Reset-All"])[1] == 1
    other_key = await client.get(sim.base_url, MARKETS, api_key="k2")
    assert other_key.status == 200
    clock.advance(1)
    again = [await client.get(sim.base_url, MARKETS, headers={"authorization": "Apikey k1"}) for _ in range(3)]
    assert [a.status for a in again] == [200, 200, 429]
    assert windows(again[2].headers["X-RateLimit-Remaining-All"])[60] == 0
    error_404 = await client.get(sim.base_url, MARKETS, market="nowhere", api_key="k3")
    assert "X-RateLimit-Remaining-All" in error_404.headers
    assert sim.stats()["responses_429"] == 2


async def test_minapi_rate_limit_is_http_200_type_99(simulator_factory: SimulatorFactory, client: SimClient) -> None:
    sim = await simulator_factory(rate_limits={1: 1})
    await client.get(sim.base_url, "/data/v2/histoday", fsym="BTC", tsym="USD")
    limited = await client.get(sim.base_url, "/data/v2/histoday", fsym="BTC", tsym="USD")
    assert limited.status == 200
    body = limited.json
    assert body["Response"] == "Error" and body["Type"] == 99
    assert body["RateLimit"]["calls_made"]["second"] == 1 and body["RateLimit"]["max_calls"]["second"] == 1


async def test_error_rate_fault_via_admin_route(simulator: Simulator, client: SimClient) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(simulator.base_url + "/__sim__/faults", json={"error_rates": {"503": 1.0}}) as response:
            assert response.status == 200
            assert (await response.json())["error_rates"] == {"503": 1.0}
        answer = await client.get(simulator.base_url, MARKETS)
        assert answer.status == 503 and answer.json["Data"] == {}
        async with session.post(simulator.base_url + "/__sim__/faults", json={"error_rates": {}}) as response:
            assert response.status == 200
        async with session.post(simulator.base_url + "/__sim__/faults", json={"bogus": 1}) as response:
            assert response.status == 400
    assert (await client.get(simulator.base_url, MARKETS)).status == 200
    assert simulator.stats()["faults_injected"] == {"error_rate": 1}


async def test_error_rate_is_deterministic_across_runs(simulator_factory: SimulatorFactory, client: SimClient) -> None:
    sequences = []
    for _ in range(2):
        sim = await simulator_factory(seed=3)
        sim.set_faults(error_rates={500: 0.3})
        sequences.append([(await client.get(sim.base_url, MARKETS)).status for _ in range(30)])
    assert sequences[0] == sequences[1]
    assert 500 in sequences[0] and 200 in sequences[0]


async def test_latency_and_timeout(simulator: Simulator, client: SimClient) -> None:
    simulator.set_faults(latency_seconds=0.2)
    started = time.perf_counter()
    assert (await client.get(simulator.base_url, MARKETS)).status == 200
    assert time.perf_counter() - started >= 0.2
    simulator.set_faults(latency_seconds=0.0, timeout_rate=1.0, timeout_seconds=5.0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as session:
        with pytest.raises(asyncio.TimeoutError):
            async with session.get(simulator.base_url + MARKETS) as response:
                await response.read()
    simulator.set_faults(timeout_rate=0.0)
    assert (await client.get(simulator.base_url, MARKETS)).status == 200


async def test_truncated_and_malformed_bodies(simulator: Simulator, client: SimClient) -> None:
    simulator.set_faults(truncate_rate=1.0)
    truncated = await client.get(simulator.base_url, MARKETS)
    assert truncated.status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(truncated.text)
    simulator.set_faults(truncate_rate=0.0, malformed_rate=1.0)
    malformed = await client.get(simulator.base_url, MARKETS)
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.text)
    assert simulator.stats()["faults_injected"] == {"malformed": 1, "truncate": 1}


@pytest.mark.parametrize("form", ["seconds", "http-date", "none"])
async def test_429_storm_for_n_requests(simulator: Simulator, client: SimClient, form: str) -> None:
    simulator.set_faults(storm_requests=2, storm_retry_after=form, storm_retry_after_seconds=4)
    answers = [await client.get(simulator.base_url, MARKETS) for _ in range(3)]
    assert [a.status for a in answers] == [429, 429, 200]
    storm = answers[0]
    if form == "seconds":
        assert storm.headers["Retry-After"] == "4"
    elif form == "http-date":
        assert email.utils.parsedate_to_datetime(storm.headers["Retry-After"]).timestamp() >= SIM_NOW + 4
    else:
        assert "Retry-After" not in storm.headers
        assert windows(storm.headers["X-RateLimit-Remaining-All"])[60] == 0
        assert windows(storm.headers["X-RateLimit-Reset-All"])[60] == 4


async def test_429_storm_for_t_seconds(simulator_factory: SimulatorFactory, client: SimClient) -> None:
    clock = ManualClock(SIM_NOW)
    sim = await simulator_factory(clock=clock)
    sim.set_faults(storm_seconds=10)
    assert (await client.get(sim.base_url, MARKETS)).status == 429
    clock.advance(9)
    assert (await client.get(sim.base_url, MARKETS)).status == 429
    clock.advance(1)
    assert (await client.get(sim.base_url, MARKETS)).status == 200


async def test_fail_next_and_permanent_failure(simulator: Simulator, client: SimClient) -> None:
    mapped = perp(simulator)
    native = simulator.universe.find_futures("binance", mapped).instrument  # type: ignore[union-attr]
    simulator.set_faults(fail_next=2, fail_next_status=500)
    assert [(await client.get(simulator.base_url, MARKETS)).status for _ in range(3)] == [500, 500, 200]
    simulator.set_faults(permanent_failures=[PermanentFailure("binance", mapped, 400)])
    path = "/futures/v1/historical/hours"
    for _ in range(3):
        assert (await client.get(simulator.base_url, path, market="binance", instrument=native)).status == 400
    other = next(f.mapped_instrument for f in simulator.universe.futures if f.market == "bybit")
    assert (await client.get(simulator.base_url, path, market="bybit", instrument=other)).status == 200


async def test_revision_changes_past_values_only_when_set(simulator: Simulator, client: SimClient) -> None:
    mapped = perp(simulator)
    params: dict[str, Any] = {"market": "binance", "instrument": mapped, "limit": 24, "to_ts": SIM_NOW - 86400}
    before = (await client.get(simulator.base_url, "/futures/v1/historical/hours", **params)).json["Data"]
    same = (await client.get(simulator.base_url, "/futures/v1/historical/hours", **params)).json["Data"]
    simulator.set_faults(revision=1)
    revised = (await client.get(simulator.base_url, "/futures/v1/historical/hours", **params)).json["Data"]
    assert before == same
    assert [r["TIMESTAMP"] for r in revised] == [r["TIMESTAMP"] for r in before]
    assert revised != before


async def test_stats_and_reset(simulator: Simulator, client: SimClient) -> None:
    mapped = perp(simulator)
    await client.get(
        simulator.base_url, "/futures/v1/historical/minutes", market="binance", instrument=mapped, limit=100
    )
    await client.get(simulator.base_url, MARKETS)
    async with aiohttp.ClientSession() as session:
        async with session.get(simulator.base_url + "/__sim__/stats") as response:
            stats = await response.json()
        assert stats["calls_per_path"] == {"/futures/v1/historical/minutes": 1, MARKETS: 1}
        assert stats["history_calls"] == 1  # the markets call is not a history call
        assert stats["calls_per_instrument"] == {"binance": {mapped: 1}}
        assert stats["rows_served"] == 100 + 2
        assert stats["status_counts"] == {"200": 2}
        async with session.post(simulator.base_url + "/__sim__/reset-stats") as response:
            assert response.status == 200
        async with session.get(simulator.base_url + "/__sim__/universe") as response:
            universe = await response.json()
    assert simulator.stats()["total_calls"] == 0
    assert any(f["mapped_instrument"] == mapped for f in universe["futures"])


async def test_require_api_key(simulator_factory: SimulatorFactory, client: SimClient) -> None:
    sim = await simulator_factory(require_api_key=True)
    assert (await client.get(sim.base_url, MARKETS)).status == 401
    assert (await client.get(sim.base_url, MARKETS, api_key="x")).status == 200


def test_simulator_thread_serves_sync_clients() -> None:
    config: SimConfig = small_config()
    with SimulatorThread(config) as sim:
        with urllib.request.urlopen(sim.base_url + MARKETS, timeout=10) as response:
            assert json.loads(response.read())["Data"]["binance"]["TYPE"] == "604"
        sim.set_faults(fail_next=1)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(sim.base_url + MARKETS, timeout=10)
        assert sim.stats()["status_counts"] == {"200": 1, "503": 1}


def test_cli_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ingestion_core.sim", "--help"], capture_output=True, text=True, timeout=60, check=True
    )
    assert "--rate-limit-per-second" in result.stdout and "--seed" in result.stdout


async def test_cached_closed_windows_are_identical_and_still_counted(simulator: Simulator, client: SimClient) -> None:
    mapped = perp(simulator)
    path = "/futures/v1/historical/minutes"
    fresh = await client.get(
        simulator.base_url, path, market="binance", instrument=mapped, limit=50, to_ts=SIM_NOW - 3600
    )
    cached = await client.get(
        simulator.base_url, path, market="binance", instrument=mapped, limit=50, to_ts=SIM_NOW - 3600
    )
    assert fresh.text == cached.text
    assert simulator.stats()["rows_served"] == 100
    simulator.set_faults(revision=2)
    revised = await client.get(
        simulator.base_url, path, market="binance", instrument=mapped, limit=50, to_ts=SIM_NOW - 3600
    )
    assert revised.text != fresh.text


def test_simulator_process_serves_and_takes_faults() -> None:
    from ingestion_core.sim import SimulatorProcess

    with SimulatorProcess(SimConfig(history_days=2)) as sim:
        with urllib.request.urlopen(sim.base_url + MARKETS, timeout=30) as response:
            assert json.loads(response.read())["Data"]["bybit"]["TYPE"] == "604"
        assert sim.set_faults(fail_next=1, error_rates={500: 0.0})["fail_next"] == 1
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(sim.base_url + MARKETS, timeout=30)
        assert sim.stats()["status_counts"] == {"200": 1, "503": 1}
        sim.reset_stats()
        assert sim.stats()["total_calls"] == 0
