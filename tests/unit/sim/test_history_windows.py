"""Window semantics of the history handlers as pure functions (no socket): property tests over to_ts/limit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion_core.sim.envelope import DataApiError
from ingestion_core.sim.history import UNITS, futures_history
from ingestion_core.sim.universe import FuturesInstrument, build_universe
from tests.plugin_sim import SIM_NOW, small_config

pytestmark = pytest.mark.unit

UNIVERSE = build_universe(small_config(), SIM_NOW)
INSTRUMENTS = list(UNIVERSE.futures)


@given(
    item=st.sampled_from(INSTRUMENTS),
    unit=st.sampled_from(["minutes", "hours", "days"]),
    limit=st.integers(1, 300),
    offset=st.integers(-3 * 86400, 40 * 86400),
    dataset=st.sampled_from(["ohlcv", "open-interest"]),
)
@settings(max_examples=150, deadline=None)
def test_rows_end_at_the_bucket_of_to_ts_and_never_exceed_limit(
    item: FuturesInstrument, unit: str, limit: int, offset: int, dataset: str
) -> None:
    size = UNITS[unit][1]
    first = item.first_trade if dataset == "ohlcv" else item.first_open_interest
    data_end = item.data_end(SIM_NOW)
    to_ts = first + offset
    params = {"market": item.market, "instrument": item.mapped_instrument, "limit": str(limit), "to_ts": str(to_ts)}
    effective = min(to_ts, data_end)
    if effective // size < first // size:
        with pytest.raises(DataApiError) as raised:
            futures_history(UNIVERSE, dataset, unit, params, 0, 0.05)
        assert raised.value.status == 404
        assert raised.value.other_info is not None and raised.value.other_info["first_bucket"] == first // size * size
        return
    rows = futures_history(UNIVERSE, dataset, unit, params, 0, 0.05).body["Data"]
    last_bucket = effective // size * size
    available = last_bucket // size - first // size + 1
    assert len(rows) == min(limit, available)
    assert rows[-1]["TIMESTAMP"] == last_bucket
    assert rows[0]["TIMESTAMP"] >= first // size * size
    assert [r["TIMESTAMP"] for r in rows] == list(range(rows[0]["TIMESTAMP"], last_bucket + 1, size))
