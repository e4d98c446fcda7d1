"""Prefect's end-of-process line for a run failed by one of our errors is one line (the traceback says no more)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator

import pytest

from flows._common import OneLineForOurErrors
from ingestion_core.errors import ParameterError

pytestmark = pytest.mark.unit


def _record(error: BaseException) -> logging.LogRecord:
    try:
        raise error
    except BaseException:
        info = sys.exc_info()
    return logging.LogRecord(
        "prefect.flow_runs", logging.ERROR, __file__, 1, "Engine execution exited with unexpected exception", (), info
    )


@pytest.fixture
def ingestion_level() -> Iterator[Callable[[int], None]]:
    logger = logging.getLogger("ingestion_core")
    before = logger.level
    yield logger.setLevel  # setLevel, not the attribute: it clears the logger's isEnabledFor cache
    logger.setLevel(before)


def _formatted(record: logging.LogRecord) -> str:
    assert OneLineForOurErrors().filter(record)  # never drops a record
    return logging.Formatter("%(levelname)s %(message)s").format(record)


def test_our_error_becomes_one_line_with_its_message(ingestion_level: Callable[[int], None]) -> None:
    ingestion_level(logging.INFO)
    text = _formatted(_record(ParameterError("invalid parameters: start is after end")))
    assert text == "ERROR run ended Failed: invalid parameters: start is after end"


def test_any_other_exception_keeps_its_traceback(ingestion_level: Callable[[int], None]) -> None:
    ingestion_level(logging.INFO)
    text = _formatted(_record(ValueError("a bug")))
    assert text.startswith("ERROR Engine execution exited") and "Traceback" in text and "ValueError: a bug" in text


def test_debug_logging_keeps_the_traceback_of_ours_too(ingestion_level: Callable[[int], None]) -> None:
    ingestion_level(logging.DEBUG)
    text = _formatted(_record(ParameterError("bad")))
    assert "Traceback" in text and "ParameterError: bad" in text


def test_the_filter_sits_on_the_logger_prefect_ends_a_flow_process_with() -> None:
    assert any(isinstance(f, OneLineForOurErrors) for f in logging.getLogger("prefect.flow_runs").filters)
