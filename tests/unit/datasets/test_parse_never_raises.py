"""Property: no response content makes a parser raise; every record is either loaded or quarantined."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion_core.datasets import DATASETS
from ingestion_core.snapshots import SNAPSHOTS
from ingestion_core.snapshots.markets import MarketsParameters
from ingestion_core.snapshots.spec import Fetched
from tests.unit.datasets.fixture_files import example_series

pytestmark = pytest.mark.unit

# Every response field any dataset reads, from the registry (a new dataset is covered without editing this test).
FIELDS = sorted(
    {spec.layout.time_field for spec in DATASETS.values()}
    | {field.source for spec in DATASETS.values() for field in spec.layout.fields}
    | {source for spec in DATASETS.values() for source, _ in spec.layout.echo}
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 60, 3600, 86400, 1_750_176_000, 1_750_179_600]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
)
values = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(st.text(max_size=3), scalars, max_size=2))
records = st.lists(
    st.one_of(st.dictionaries(st.sampled_from(FIELDS), values), values),
    max_size=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(batch=records, name=st.sampled_from(sorted(DATASETS)), choice=st.integers(min_value=0, max_value=2))
def test_history_parse_never_raises(batch: list[Any], name: str, choice: int) -> None:
    spec = DATASETS[name]
    interval = spec.intervals[choice % len(spec.intervals)]
    result = spec.parse(
        batch,
        interval=interval,
        series=example_series(spec),
        window_start=0,
        window_end=1_800_000_000,
        collected_at=datetime(2026, 1, 1),
    )
    assert result.frame.schema == spec.schema(interval)
    assert result.frame.height + result.rejected + result.dropped == len(batch)
    assert result.frame.get_column("datetime").is_sorted()
    assert not result.frame.get_column("datetime").is_duplicated().any()
    assert len({q.record_key for q in result.quarantined}) == len(result.quarantined)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    data=st.dictionaries(
        st.text(max_size=4),
        st.one_of(
            values,
            st.fixed_dictionaries(
                {},
                optional={
                    "TOTAL_TRADES_FUTURES": values,
                    "HAS_ORDERBOOK_L2_MINUTE_SNAPSHOTS_ENABLED": values,
                    "INSTRUMENT_STATUS": values,
                    "instruments": st.one_of(
                        values,
                        st.dictionaries(
                            st.text(max_size=4),
                            st.one_of(
                                values,
                                st.fixed_dictionaries(
                                    {},
                                    optional={
                                        "HAS_TRADES_FUTURES": values,
                                        "FIRST_TRADE_FUTURES_TIMESTAMP": values,
                                        "INSTRUMENT_MAPPING": values,
                                        "TOTAL_TRADES_FUTURES": values,
                                        "INSTRUMENT": values,
                                    },
                                ),
                            ),
                            max_size=3,
                        ),
                    ),
                },
            ),
        ),
        max_size=3,
    )
)
def test_instruments_parse_never_raises(data: dict[str, Any]) -> None:
    parsed = SNAPSHOTS["futures_instruments"].parse(Fetched(data), MarketsParameters(), datetime(2026, 1, 1))
    assert parsed.frames["market.cc_exchanges_futures_details"].height <= len(data)
