"""Polars runs one thread per process unless the operator says otherwise (``ingestion_core/__init__.py``).

Polars sizes its pool when it is first imported, so what matters is the import order of a real entry point: each case
starts a fresh interpreter the way the entry point starts (a module run ad hoc, a deployment's entrypoint loaded by
Prefect's own loader) and asks Polars for its pool size.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion_core import POLARS_THREADS_DEFAULT

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

AD_HOC = "import flows.futures_ohlcv, polars; print(polars.thread_pool_size())"
DEPLOYED = (
    "from prefect.flows import load_flow_from_entrypoint; "
    "load_flow_from_entrypoint('flows/futures_ohlcv.py:futures_ohlcv'); "
    "import polars; print(polars.thread_pool_size())"
)


def _pool_size(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("code", [AD_HOC, DEPLOYED], ids=["python -m flows.x", "deployment entrypoint"])
def test_one_polars_thread_by_default(code: str) -> None:
    assert _pool_size(code) == POLARS_THREADS_DEFAULT


def test_the_operators_setting_wins() -> None:
    assert _pool_size(AD_HOC, POLARS_MAX_THREADS="2") == "2"
