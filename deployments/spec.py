"""prefect.yaml as data: every deployment, its schedules, and the dataset series it feeds.

Everything operational (stale-data alerts, drift checks, the e2e test) is derived from the ``deployments:`` list of
``prefect.yaml``, whatever it contains, so a new deployment needs no code change here. The series naming is the
contract with the flows: a deployment whose ``parameters`` hold an ``interval`` is a time series and its runs emit
``ccdata.dataset.upserted`` for resource ``ccdata.dataset.<dataset>.<interval>``; any other deployment is a snapshot
(resource ``ccdata.dataset.<dataset>``). ``<dataset>`` is the entrypoint's module file name
(``flows/futures_ohlcv.py:futures_ohlcv`` -> ``futures_ohlcv``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prefect.utilities.annotations import NotSet
from prefect.utilities.templating import apply_values

from ingestion_core.errors import ConfigurationError

ROOT = Path(__file__).absolute().parent.parent
PREFECT_FILE = ROOT / "prefect.yaml"


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """One entry of a deployment's ``schedules:`` (as written; Prefect validates the cron/interval/rrule itself)."""

    slug: str | None
    active: bool | None
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def kind(self) -> str:
        """``cron``, ``interval`` or ``rrule``."""
        for kind in ("cron", "interval", "rrule"):
            if self.raw.get(kind) is not None:
                return kind
        return "unknown"


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """One entry of ``deployments:`` with YAML anchors resolved."""

    name: str
    entrypoint: str
    parameters: Mapping[str, Any]
    schedules: tuple[ScheduleSpec, ...]
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def entrypoint_path(self) -> str | None:
        """The flow file relative to the project root, or None for a module-path entrypoint (``pkg.mod.fn``)."""
        path, sep, _ = self.entrypoint.rpartition(":")
        return path if sep else None

    @property
    def dataset(self) -> str:
        """The entrypoint's module file name: ``flows/futures_ohlcv.py:futures_ohlcv`` -> ``futures_ohlcv``."""
        path = self.entrypoint_path
        if path is not None:
            return Path(path).stem
        module = self.entrypoint.rsplit(".", 1)[0]
        return module.rsplit(".", 1)[-1]

    @property
    def interval(self) -> str | None:
        """The ``interval`` parameter of a time-series deployment; None for a snapshot."""
        value = self.parameters.get("interval")
        return None if value is None else str(value)

    @property
    def series(self) -> str:
        """``<dataset>.<interval>`` for a time series, ``<dataset>`` for a snapshot."""
        return self.dataset if self.interval is None else f"{self.dataset}.{self.interval}"

    @property
    def resource_id(self) -> str:
        """The resource of the ``ccdata.dataset.upserted`` events this deployment's runs emit."""
        return f"ccdata.dataset.{self.series}"

    @property
    def work_pool(self) -> str | None:
        """The work pool name of the entry."""
        pool = self.raw.get("work_pool")
        return str(pool["name"]) if isinstance(pool, Mapping) and pool.get("name") else None

    @property
    def work_queue(self) -> str | None:
        """The work queue name of the entry (None = the pool's default queue)."""
        pool = self.raw.get("work_pool")
        return str(pool["work_queue_name"]) if isinstance(pool, Mapping) and pool.get("work_queue_name") else None


@dataclass(frozen=True, slots=True)
class ProjectSpec:
    """The whole ``prefect.yaml``."""

    path: Path
    raw: Mapping[str, Any] = field(repr=False)
    deployments: tuple[DeploymentSpec, ...]

    @property
    def pull(self) -> Sequence[Mapping[str, Any]]:
        """The top-level pull steps."""
        steps = self.raw.get("pull") or []
        return list(steps) if isinstance(steps, list) else []

    @property
    def pools(self) -> tuple[str, ...]:
        """Every work pool the deployments use, in file order."""
        return tuple(dict.fromkeys(d.work_pool for d in self.deployments if d.work_pool))

    def by_series(self) -> dict[str, list[DeploymentSpec]]:
        """The deployments grouped by the series they feed (several may feed one).

        A hand-written flow feeds none (no stale-data alert): ``validate_shadow`` writes no data, and
        ``asset_coin_uid_map`` rewrites only what changed (a day without a change is not staleness).
        """
        from flows._registry import OTHER_FLOWS

        groups: dict[str, list[DeploymentSpec]] = {}
        for dep in self.deployments:
            if dep.dataset not in OTHER_FLOWS:
                groups.setdefault(dep.series, []).append(dep)
        return groups


def render_env(value: Any) -> Any:
    """Replace ``{{ $VAR }}`` placeholders with environment values, as ``prefect deploy`` does (unset ones stay)."""
    rendered = apply_values(value, dict(os.environ), remove_notset=False)
    return value if rendered is NotSet else rendered


def _schedule(entry: object, where: str) -> ScheduleSpec:
    if not isinstance(entry, Mapping):
        raise ConfigurationError(f"{where}: a schedule must be a mapping, not {entry!r}")
    active = entry.get("active")
    if active is not None and not isinstance(active, bool):
        raise ConfigurationError(f"{where}: 'active' must be true or false, not {active!r}")
    slug = entry.get("slug")
    return ScheduleSpec(slug=None if slug is None else str(slug), active=active, raw=dict(entry))


def _deployment(entry: object, index: int) -> DeploymentSpec:
    if not isinstance(entry, Mapping):
        raise ConfigurationError(f"prefect.yaml: deployments[{index}] must be a mapping")
    name = entry.get("name")
    entrypoint = entry.get("entrypoint")
    if not name or not entrypoint:
        raise ConfigurationError(f"prefect.yaml: deployments[{index}] needs a name and an entrypoint")
    where = f"prefect.yaml: deployment {name!r}"
    parameters = entry.get("parameters") or {}
    if not isinstance(parameters, Mapping):
        raise ConfigurationError(f"{where}: 'parameters' must be a mapping")
    schedules = entry.get("schedules") or []
    if not isinstance(schedules, list):
        raise ConfigurationError(f"{where}: 'schedules' must be a list")
    return DeploymentSpec(
        name=str(name),
        entrypoint=str(entrypoint),
        parameters=dict(parameters),
        schedules=tuple(_schedule(s, where) for s in schedules),
        raw=dict(entry),
    )


def load_project(path: Path = PREFECT_FILE) -> ProjectSpec:
    """Read ``prefect.yaml`` (anchors resolved).

    Args:
        path: the file to read.

    Returns:
        The project's deployments.

    Raises:
        ConfigurationError: the file is missing, is not YAML, or an entry lacks a name or an entrypoint.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"{path} not found") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("deployments"), list):
        raise ConfigurationError(f"{path} has no 'deployments:' list")
    deployments = tuple(_deployment(entry, i) for i, entry in enumerate(raw["deployments"]))
    names = [d.name for d in deployments]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(f"{path}: deployment names must be unique, repeated: {', '.join(duplicates)}")
    return ProjectSpec(path=path, raw=raw, deployments=deployments)
