"""Shared test configuration. Fixtures live in plugin modules owned by each layer.

CI never passes by skipping: under ``CI=true`` the hooks below turn every skip into a failure, wherever it comes
from (``pytest.skip`` in a test, a fixture or a plugin, a ``skip``/``skipif`` mark, ``unittest.SkipTest``, an
imperative ``pytest.xfail`` or an ``xfail(run=False)`` mark, a module skipped at collection). A test that cannot
reach a server just skips (``tests.plugin_db.unavailable``); this is the one place that decides what a skip means.
The reason stays in the report, so ``-ra`` shows it in both modes.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

pytest_plugins = ("tests.plugin_sim", "tests.plugin_db", "tests.plugin_prefect")

CI_FAILS_SKIPS = "CI=true: a skip is a failure"


def skips_fail() -> bool:
    """Whether skips are failures in this run (``CI=true``)."""
    return os.environ.get("CI", "").lower() == "true"


def _skip_reason(longrepr: object) -> str:
    """``path:line: reason`` of a skip report (pytest keeps a skip's location and message as a tuple)."""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, line, message = longrepr
        return f"{message} ({path}:{line})"
    return str(longrepr)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under ``CI=true``, report a test that skipped (in setup, call or teardown) as failed, with the reason."""
    report = yield
    if not skips_fail() or not report.skipped:
        return report
    declined = call.excinfo is not None and isinstance(call.excinfo.value, pytest.xfail.Exception)
    if hasattr(report, "wasxfail") and not declined:
        return report  # an xfail mark on a test that ran and failed: it ran, it did not skip
    reason = f"XFailed: {report.wasxfail}" if declined else _skip_reason(report.longrepr)
    message = f"{reason} [{CI_FAILS_SKIPS}]"
    failure = pytest.CallInfo.from_call(lambda: pytest.fail(message, pytrace=False), call.when)
    failed = pytest.TestReport.from_item_and_call(item, failure)
    failed.start, failed.stop, failed.duration = report.start, report.stop, report.duration
    return failed


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Under ``CI=true``, report a module or class skipped at collection as a collection error, with the reason."""
    report = yield
    if skips_fail() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"{_skip_reason(report.longrepr)} [{CI_FAILS_SKIPS}]"
    return report
