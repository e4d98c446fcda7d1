"""Every flow by name, built on first use, so importing a flow module (or printing its help) costs no Prefect import.

A flow module (``flows/futures_ohlcv.py``) holds no ``@flow``: ``__getattr__`` makes ``flows.futures_ohlcv.
futures_ohlcv`` the Prefect flow, built when first read (by a deployment's entrypoint, a test or the command line
after its arguments were checked). So that a reader still finds the flow where it is named, every flow module
declares where its flow is written, the same way::

    FLOW = FlowSource(NAME, body="flows/_timeseries.py:run_timeseries", built_by="flows/_timeseries.py:timeseries_flow")
    __getattr__ = FLOW.module_getattr

and its docstring names the same places (``tests/unit/test_flow_modules.py`` checks both against the flow the
module serves). The name is given, not taken from ``__name__``: a Prefect worker loads an entrypoint file under a
generated module name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingestion_core.datasets import DATASETS
from ingestion_core.snapshots import SNAPSHOTS

_built: dict[str, Any] = {}

#: Flow modules that are not a dataset: written by hand, not built from a spec; they feed no stale-data alert.
OTHER_FLOWS = ("validate_shadow", "asset_coin_uid_map")


@dataclass(frozen=True, slots=True)
class FlowSource:
    """Where the flow of one flow module is written.

    Attributes:
        name: the flow module's name, also the flow's attribute in it (entrypoint ``flows/<name>.py:<name>``).
        body: ``path:function`` of the code a run executes: the ``@flow`` itself, or the body a built flow calls.
        built_by: ``path:function`` that builds the flow from the dataset's spec; empty when ``body`` is the
            ``@flow``.
    """

    name: str
    body: str
    built_by: str = ""

    def module_getattr(self, attribute: str) -> Any:
        """The flow module's ``__getattr__``: its one attribute, ``name``, is the flow (built on first read)."""
        if attribute != self.name:
            raise AttributeError(f"flow module {self.name!r} has no attribute {attribute!r}")
        return build_flow(self.name)


def build_flow(name: str) -> Any:
    """The Prefect flow of the flow module ``name`` (built once per process).

    Raises:
        KeyError: no flow module has that name.
    """
    if name not in _built:
        built, run_log = _build(name)
        if run_log is not None:  # every run that writes a run-log row gets one however it ends
            from flows._common import unfinished_run_hook

            hook = unfinished_run_hook(*run_log)
            built.on_crashed(hook)
            built.on_cancellation(hook)
        _built[name] = built
    return _built[name]


def _build(name: str) -> tuple[Any, tuple[str, str | None] | None]:
    """The flow, and the (dataset, default interval) of its run-log rows (None: it writes none)."""
    if name in DATASETS:
        from flows._timeseries import timeseries_flow

        spec = DATASETS[name]
        return timeseries_flow(spec), (spec.name, spec.parameters.model_fields["interval"].default)
    if name in SNAPSHOTS:
        from flows._snapshot import snapshot_flow

        return snapshot_flow(SNAPSHOTS[name]), (SNAPSHOTS[name].name, None)
    if name == "validate_shadow":
        from flows._shadow import validate_shadow

        return validate_shadow, None  # a comparison report, not an ingestion run
    if name == "asset_coin_uid_map":
        from flows._coin_uid_map import asset_coin_uid_map
        from ingestion_core.coin_uid import DATASET

        return asset_coin_uid_map, (DATASET, None)
    known = sorted([*DATASETS, *SNAPSHOTS, *OTHER_FLOWS])
    raise KeyError(f"no flow named {name!r}; flows: {', '.join(known)}")
