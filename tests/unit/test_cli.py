"""The flows' command line: every flow parameter is an option, typed and described; bad input stops at the door."""

from __future__ import annotations

import inspect
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args, get_origin

import pytest

from flows._cli import model_for, parser_for
from flows._registry import build_flow
from ingestion_core.datasets import DATASETS
from ingestion_core.errors import ParameterError
from ingestion_core.parameters import validate_parameters
from ingestion_core.snapshots import SNAPSHOTS

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted([*DATASETS, *SNAPSHOTS])


@pytest.mark.parametrize("name", NAMES)
def test_every_flow_parameter_is_an_option_with_its_description(name: str) -> None:
    help_text = " ".join(parser_for(name).format_help().split())
    model, _, _ = model_for(name)
    flow = build_flow(name)
    assert set(inspect.signature(flow.fn).parameters) == set(model.model_fields)
    for field, info in model.model_fields.items():
        assert "--" + field.replace("_", "-") in help_text, field
        assert info.description and " ".join(info.description.split())[:40] in help_text, field
        assert "<" not in info.description, f"{field}: angle brackets render as HTML tags in the Prefect UI"
    assert "Args:" not in help_text


def test_flow_modules_are_exactly_the_registry() -> None:
    from flows._registry import OTHER_FLOWS

    modules = {p.stem for p in (ROOT / "flows").glob("*.py") if not p.stem.startswith("_")} - {"demo"}
    assert modules == set(NAMES) | set(OTHER_FLOWS)


@pytest.mark.parametrize("name", [*NAMES, "validate_shadow"])
def test_every_flow_loads_from_its_entrypoint_as_a_worker_loads_it(name: str) -> None:
    from prefect.flows import load_flow_from_entrypoint

    flow: object = load_flow_from_entrypoint(
        f"{ROOT / 'flows' / name}.py:{name}"
    )  # a generated module name, not flows.X
    if name == "validate_shadow":
        from flows._shadow import validate_shadow

        assert flow is validate_shadow
    else:
        assert flow is build_flow(name)


def test_options_are_typed() -> None:
    argv = ["--interval", "1m", "--markets", "binance", "bybit", "--start", "2024-01-31", "--end", "2024-02-01T12:00Z"]
    argv += ["--lookback", "3", "--instruments-per-task", "1", "--dry-run", "--instrument-status", "ACTIVE", "EXPIRED"]
    args = vars(parser_for("futures_ohlcv").parse_args(argv))
    assert args["interval"] == "1m" and args["markets"] == ["binance", "bybit"]
    assert args["start"] == datetime(2024, 1, 31) and args["end"] == datetime(2024, 2, 1, 12)
    assert (args["lookback"], args["instruments_per_task"], args["dry_run"]) == (3, 1, True)
    assert args["instrument_status"] == ["ACTIVE", "EXPIRED"]


def _listed_names() -> list[tuple[str, str]]:
    """Every (flow, parameter) whose value is a list of free text (names), as the models declare them."""
    found = []
    for name in NAMES:
        model, _, _ = model_for(name)
        for field, info in model.model_fields.items():
            annotation = info.annotation
            lists = [a for a in (annotation, *get_args(annotation)) if get_origin(a) is list]
            if lists and get_origin(get_args(lists[0])[0]) is not Literal:
                found.append((name, field))
    return found


@pytest.mark.parametrize(("name", "field"), _listed_names())
@pytest.mark.parametrize("blank", ["", "  "])
def test_an_empty_item_in_a_list_parameter_is_refused(name: str, field: str, blank: str) -> None:
    model, _, _ = model_for(name)
    with pytest.raises(ParameterError) as info:
        validate_parameters(model, {field: ["x", blank]} if field != "pairs" else {field: ["BTC/USD", blank]})
    assert str(info.value) == (
        f"invalid parameters: {field}.1: an empty or blank item; give the names, or leave the parameter out to "
        "select all"
    )


def test_the_list_parameters_checked_for_empty_items_are_the_known_ones() -> None:
    assert sorted({field for _, field in _listed_names()}) == ["instruments", "markets", "pairs"]


def test_options_not_given_are_left_to_the_model_defaults() -> None:
    assert vars(parser_for("futures_ohlcv").parse_args([])) == {"debug": False}


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
        parser_for("futures_ohlcv").parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def _run(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(ROOT / "data" / "cli-test"), **env},
    )


FLOW_MODULES = sorted(p.stem for p in (ROOT / "flows").glob("*.py") if not p.stem.startswith("_") and p.stem != "demo")


def test_module_help_shows_the_options() -> None:
    done = _run("-m", "flows.futures_ohlcv", "--help")
    assert done.returncode == 0, done.stderr
    assert "--dry-run" in done.stdout and "--instruments-per-task" in done.stdout
    shadow = _run("-m", "flows.validate_shadow", "--help")
    assert shadow.returncode == 0 and "--legacy-schema" in shadow.stdout and "--tolerance" in shadow.stdout


def test_validate_shadow_rejects_a_bad_option_in_one_line() -> None:
    done = _run("-m", "flows.validate_shadow", "--days", "0")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--days: Input should be greater than or equal to 1, got '0'" in done.stderr


@pytest.mark.parametrize("module", FLOW_MODULES)
def test_module_help_runs_without_importing_prefect_or_polars(module: str) -> None:
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['x', '--help']\n"
        f"try:\n    runpy.run_module('flows.{module}', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'polars', 'aiohttp', 'singlestoredb'})\n"
        "sys.stderr.write(repr(heavy))\n"
    )
    checked = _run("-c", probe)
    assert checked.stderr.strip() == "[]", checked.stderr


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--lookback", "-5"], "lookback: Input should be greater than or equal to 0"),
        (["--start", "2024-02-01", "--end", "2024-01-01"], "start (2024-02-01 00:00) is after end (2024-01-01 00:00)"),
        (["--instruments-per-task", "-1"], "instruments_per_task: Input should be greater than or equal to 1"),
        (["--max-concurrency", "0"], "max_concurrency: Input should be greater than or equal to 1"),
    ],
)
def test_bad_parameters_are_one_line_and_exit_2_before_prefect(argv: list[str], fragment: str) -> None:
    done = _run("-m", "flows.futures_ohlcv", *argv)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: invalid parameters: ")
    assert fragment in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_configuration_error_is_one_line_and_exits_1() -> None:
    done = _run("-m", "flows.futures_ohlcv", API_MAX_RETRIES="-1")
    assert done.returncode == 1
    assert done.stderr == "error: invalid configuration: API_MAX_RETRIES: Input should be greater than or equal to 0\n"


def test_a_database_url_with_an_unencoded_password_is_one_line_without_the_password() -> None:
    secret = "Sec/ret#1Marker"
    done = _run("-m", "flows.futures_ohlcv", DATABASE_URL=f"mysql://root:{secret}@127.0.0.1:3306/x")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "percent-encode special characters" in done.stderr
    assert "Marker" not in done.stderr + done.stdout and "Sec/ret" not in done.stderr


def test_an_api_url_without_a_host_is_a_configuration_error() -> None:
    done = _run("-m", "flows.futures_ohlcv", DATA_API_BASE_URL="http://")
    assert done.returncode == 1
    assert done.stderr == (
        "error: invalid configuration: DATA_API_BASE_URL: Value error, must name a host, "
        "e.g. https://data-api.cryptocompare.com\n"
    )
