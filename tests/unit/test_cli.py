"""The flows' command line: every flow parameter is an option, typed, with its description."""

from __future__ import annotations

import inspect
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from flows._cli import build_parser
from flows.futures_funding_rate import futures_funding_rate
from flows.futures_instruments import futures_instruments
from flows.futures_ohlcv import futures_ohlcv
from flows.futures_open_interest import futures_open_interest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
FLOWS = [futures_ohlcv, futures_funding_rate, futures_open_interest, futures_instruments]


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_every_parameter_is_an_option_with_its_description(flow: object) -> None:
    parser = build_parser(flow)  # type: ignore[arg-type]
    help_text = " ".join(parser.format_help().split())
    for name in inspect.signature(flow.fn).parameters:  # type: ignore[attr-defined]
        assert "--" + name.replace("_", "-") in help_text, name
    assert "Args:" not in help_text


def test_options_are_typed() -> None:
    argv = ["--interval", "1m", "--markets", "binance", "bybit", "--start", "2024-01-31", "--end", "2024-02-01T12:00Z"]
    argv += ["--lookback", "3", "--instruments-per-task", "1", "--dry-run", "--instrument-status", "ACTIVE", "EXPIRED"]
    args = build_parser(futures_ohlcv).parse_args(argv)
    assert args.interval == "1m" and args.markets == ["binance", "bybit"]
    assert args.start == datetime(2024, 1, 31) and args.end == datetime(2024, 2, 1, 12)
    assert (args.lookback, args.instruments_per_task, args.dry_run) == (3, 1, True)
    assert args.instrument_status == ["ACTIVE", "EXPIRED"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--interval", "5m"], "invalid choice: '5m'"),
        (["--start", "yesterday"], "not an ISO date/time"),
        (["--lookback", "x"], "invalid int value"),
        (["--instrument-status", "LIVE"], "invalid choice: 'LIVE'"),
    ],
)
def test_bad_options_are_rejected_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser(futures_ohlcv).parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_module_help_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flows.futures_ohlcv", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "--dry-run" in done.stdout and "--instruments-per-task" in done.stdout
