"""The numeric options of ``make deploy`` and the worker: a bad value is one ``error:`` line and exit 2, dry or not."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from deployments.options import RunLimit, Seconds
from flows._cli import checked

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("module", "argv", "says"),
    [
        ("deploy", ["--pool-concurrency", "-1"], "--pool-concurrency: Input should be greater than or equal to 1"),
        ("deploy", ["--pool-concurrency", "-1", "--dry-run"], "--pool-concurrency: Input should be greater than or"),
        ("deploy", ["--dry-run", "--pool-concurrency", "0"], "--pool-concurrency: Input should be greater than or"),
        ("deploy", ["--scheduler-wait-seconds", "nan"], "--scheduler-wait-seconds: Input should be a finite number"),
        ("worker", ["--limit", "0"], "--limit: Input should be greater than or equal to 1, got '0'"),
        ("worker", ["--grace-seconds", "-1"], "--grace-seconds: Input should be greater than or equal to 0"),
        ("worker", ["--prefetch-seconds", "inf"], "--prefetch-seconds: Input should be a finite number"),
    ],
)
def test_a_bad_number_is_one_error_line_and_exit_2(module: str, argv: list[str], says: str, tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", f"deployments.{module}", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PREFECT_HOME": str(tmp_path)},
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: argument "), done.stderr
    assert says in done.stderr
    assert time.monotonic() - started < 30


def test_the_option_types_accept_what_they_should() -> None:
    assert checked(RunLimit)("4") == 4
    assert checked(Seconds)("0") == 0.0 and checked(Seconds)("2.5") == 2.5
