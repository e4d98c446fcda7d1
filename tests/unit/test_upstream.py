"""Which snapshot deployments a time-series deployment waits for on a first deploy (derived from the specs)."""

from __future__ import annotations

import pytest

from deployments.spec import PREFECT_FILE, load_project
from deployments.upstream import upstream_specs
from ingestion_core.datasets import DATASETS
from ingestion_core.snapshots import SNAPSHOTS

pytestmark = pytest.mark.unit


def test_every_time_series_deployment_that_reads_a_table_waits_for_the_deployments_writing_it() -> None:
    project = load_project(PREFECT_FILE)
    found = upstream_specs(project.deployments)
    for spec in project.deployments:
        if spec.interval is None or spec.dataset not in DATASETS:
            assert spec.name not in found
            continue
        reads = {t.qualified_name for t in DATASETS[spec.dataset].source.reads}
        writers = {
            d.name
            for d in project.deployments
            if d.interval is None and d.dataset in SNAPSHOTS
            and reads & {t.qualified_name for t in SNAPSHOTS[d.dataset].tables}
        }  # fmt: skip
        assert {u.name for u in found.get(spec.name, [])} == writers, spec.name
    # What prefect.yaml holds today, spelled out: futures series wait for the futures discovery, spot for three.
    assert {u.name for u in found["futures-ohlcv-1m"]} == {"futures-instruments-daily"}
    assert {u.name for u in found["spot-ohlcv-1d"]} == {
        "asset-metadata-daily",
        "exchanges-general-daily",
        "spot-instruments-daily",
    }
    assert not any(name.startswith(("index-", "crypto-prices")) for name in found)
