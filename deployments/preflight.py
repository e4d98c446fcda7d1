"""Checks ``make deploy`` runs before it changes anything on the Prefect server.

Each failure is a :class:`~ingestion_core.errors.ConfigurationError` whose one-line message says what to change.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import prefect
from prefect.client.orchestration import PrefectClient
from prefect.exceptions import ObjectNotFound
from prefect.settings import get_current_settings
from prefect.utilities.templating import PlaceholderType, find_placeholders

from deployments.spec import DeploymentSpec, ProjectSpec, render_env
from ingestion_core.errors import ConfigurationError

SET_WORKING_DIRECTORY = "prefect.deployments.steps.set_working_directory"


def api_url() -> str:
    """The Prefect API the deploy talks to; never Prefect's temporary in-process server."""
    url = get_current_settings().api.url
    if not url:
        raise ConfigurationError(
            "PREFECT_API_URL is not set: point it at the Prefect server, e.g. "
            "export PREFECT_API_URL=http://prefect-host:4200/api"
        )
    return str(url)


def _pull_steps(project: ProjectSpec, spec: DeploymentSpec) -> Sequence[Mapping[str, Any]]:
    steps = spec.raw.get("pull", project.pull)
    return list(steps or [])


def check_pull_directories(project: ProjectSpec) -> set[Path]:
    """Every ``set_working_directory`` pull step must resolve to this project's directory.

    The deploy renders ``{{ $VAR }}`` in pull steps from its environment and the server stores the result, so the
    path is fixed at deploy time: it must be set, absolute, and hold every deployment's flow file (a wrong path
    makes the pull step pass and the run crash with FileNotFoundError on the worker).

    Returns:
        The directories the deployments will run in.

    Raises:
        ConfigurationError: naming the variable (e.g. ``CCDATA_INGEST_HOME``) and what is wrong with it.
    """
    directories: set[Path] = set()
    for spec in project.deployments:
        for step in _pull_steps(project, spec):
            inputs = step.get(SET_WORKING_DIRECTORY)
            if not isinstance(inputs, Mapping) or "directory" not in inputs:
                continue
            template = str(inputs["directory"])
            variables = sorted(
                p.name.lstrip("$") for p in find_placeholders(template) if p.type is PlaceholderType.ENV_VAR
            )
            source = f"{variables[0]}" if variables else "the pull directory in prefect.yaml"
            for name in variables:
                if not os.environ.get(name):
                    raise ConfigurationError(
                        f"{name} is not set: export {name}=<the directory holding this project on the worker "
                        f"hosts>, e.g. {name}={project.path.parent}"
                    )
            directory = Path(str(render_env(template)))
            shown = f"{source}={directory}" if variables else f"{source} ({directory})"
            if not directory.is_absolute():
                raise ConfigurationError(f"{shown} must be an absolute path")
            if not directory.is_dir():
                raise ConfigurationError(f"{shown} is not a directory on this host")
            flow_file = spec.entrypoint_path
            if flow_file is not None and not (directory / flow_file).is_file():
                raise ConfigurationError(
                    f"{shown} does not hold this project: {directory / flow_file} (deployment {spec.name}) is missing"
                )
            directories.add(directory)
    return directories


def check_entrypoints(project: ProjectSpec) -> None:
    """Every entrypoint file exists in the project being deployed."""
    for spec in project.deployments:
        path = spec.entrypoint_path
        if path is not None and not (project.path.parent / path).is_file():
            raise ConfigurationError(f"deployment {spec.name!r}: entrypoint file {path} does not exist")


async def check_server(client: PrefectClient) -> list[str]:
    """The API answers; returns warnings (e.g. a server version other than the client's).

    Raises:
        ConfigurationError: the server cannot be reached.
    """
    problem = await client.api_healthcheck()
    if problem is not None:
        raise ConfigurationError(f"Prefect API at {api_url()} is not reachable ({problem}): check PREFECT_API_URL")
    warnings: list[str] = []
    server = await client.api_version()
    if server.split(".")[:2] != prefect.__version__.split(".")[:2]:
        warnings.append(f"Prefect server {server} and client {prefect.__version__} differ (pinned: prefect.yaml)")
    return warnings


async def check_ui(client: PrefectClient, api: str) -> list[str]:
    """What the server's own settings do to its UI and to the alerts' links (``GET /admin/settings``).

    Without ``PREFECT_UI_URL`` on the server every alert's ``{{ flow_run|ui_url }}`` renders as ``None``; a server
    started on another port than 4200 without ``PREFECT_UI_API_URL`` serves a UI that calls the API on port 4200
    ("Oops. Something went wrong"). Both are settings of the server process, not of this deploy.

    Args:
        client: an open Prefect client.
        api: the API URL this deploy talks to (``PREFECT_API_URL``).

    Returns:
        One line per problem, naming the server setting that fixes it (empty: the UI and the links work).
    """
    response = await client.request("GET", "/admin/settings")
    response.raise_for_status()
    settings = response.json()
    problems: list[str] = []
    ui_url = settings.get("ui_url")
    if not ui_url:
        problems.append(
            "the server has no PREFECT_UI_URL: the alerts' links to a run read 'None'. Set PREFECT_UI_URL to the "
            "UI's address (e.g. http://prefect-host:4200) in the server's environment and restart it"
        )
    ui_api = ((settings.get("server") or {}).get("ui") or {}).get("api_url")
    if ui_api and ui_api.rstrip("/") != api.rstrip("/"):
        problems.append(
            f"the server's UI calls the API at {ui_api}, this deploy at {api}: when they are not the same server the "
            f"UI shows 'Oops. Something went wrong'. Set PREFECT_UI_API_URL={api} in the server's environment"
        )
    return problems


async def check_pools(client: PrefectClient, project: ProjectSpec) -> None:
    """Every work pool the deployments name is absent (it will be created) or a process pool."""
    for name in project.pools:
        try:
            pool = await client.read_work_pool(name)
        except ObjectNotFound:
            continue
        if pool.type != "process":
            raise ConfigurationError(f"work pool {name!r} exists with type {pool.type!r}; the deployments need process")
