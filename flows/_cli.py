"""Command line of every flow: each flow parameter is an option, checked at the door before Prefect is imported.

``python -m flows.futures_ohlcv --interval 1d --markets binance bybit --dry-run``. The options come from the
dataset's parameter model (the same model the Prefect form and the flow use), so ``--help`` and bad input cost
no Prefect or Polars import: a usage error exits 2 and a configuration error exits 1, each as one line on stderr,
in well under a second. ``--debug`` (or ``LOG_LEVEL=DEBUG``) shows tracebacks.

Without ``PREFECT_API_URL`` the run uses Prefect's temporary local server; its start-up timeout is raised here,
before Prefect reads its settings, because the first start on a fresh ``PREFECT_HOME`` on a small, busy machine
takes longer than Prefect's 20 s default (docs/prefect-facts.md A8).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from ingestion_core.datasets import DATASETS
from ingestion_core.errors import IngestError, RunFailed
from ingestion_core.parameters import form_order, validate_parameters
from ingestion_core.snapshots import SNAPSHOTS

EPHEMERAL_STARTUP_TIMEOUT_SECONDS = "180"


def _parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date/time: {text!r} (e.g. 2024-01-31 or 2024-01-31T12:00)"
        ) from None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _help(info: Any) -> str:
    text = str(info.description or "")
    default = info.get_default(call_default_factory=True)
    if default not in (None, False, []):
        text += f" (default: {' '.join(default) if isinstance(default, list) else default})"
    return text.replace("%", "%%")


def checked(kind: Any) -> Callable[[str], Any]:
    """An argparse type that validates with a pydantic type (``Annotated[int, Field(ge=1)]``): one ``error:`` line.

    Args:
        kind: the type the option's value must satisfy (the same one the flow or the model uses).

    Returns:
        A function argparse calls with the option's text; its error message is the rule broken and the text given.
    """
    adapter: TypeAdapter[Any] = TypeAdapter(kind)

    def parse(text: str) -> Any:
        try:
            return adapter.validate_python(text)
        except ValidationError as exc:
            raise argparse.ArgumentTypeError(f"{exc.errors()[0]['msg']}, got {text!r}") from None

    return parse


class OneLineParser(argparse.ArgumentParser):
    """A parser whose usage errors are one ``error:`` line (argparse prints the whole usage first)."""

    def error(self, message: str) -> typing.NoReturn:
        _error(f"{message} (see {self.prog} --help)", 2)
        raise SystemExit(2)


def build_parser(model: type[BaseModel], prog: str, description: str, order: list[str]) -> argparse.ArgumentParser:
    """An argparse parser with one option per model field, typed and described from the model.

    Options the user does not give are absent from the result (the model's defaults apply, one place). A usage
    error is one line on stderr and exit status 2.
    """
    parser = OneLineParser(prog=prog, description=description, argument_default=argparse.SUPPRESS)
    for name in order:
        info = model.model_fields[name]
        annotation = _strip_optional(info.annotation)
        option = "--" + name.replace("_", "-")
        kwargs: dict[str, Any] = {"dest": name, "help": _help(info)}
        origin = get_origin(annotation)
        if annotation is bool:
            parser.add_argument(option, action=argparse.BooleanOptionalAction, **kwargs)
            continue
        if origin is list:
            (item,) = get_args(annotation) or (str,)
            kwargs["nargs"] = "+"
            if get_origin(item) is Literal:
                kwargs["choices"] = list(get_args(item))
            elif item is int:
                kwargs["type"] = int
        elif origin is Literal:
            kwargs["choices"] = list(get_args(annotation))
        elif annotation is int:
            kwargs["type"] = int
        elif annotation is float:
            kwargs["type"] = float
        elif annotation is datetime:
            kwargs["type"] = _parse_datetime
            kwargs["metavar"] = "ISO_DATETIME"
        parser.add_argument(option, **kwargs)
    parser.add_argument("--debug", action="store_true", default=False, help="show tracebacks and debug logging")
    return parser


def model_for(name: str) -> tuple[type[BaseModel], str, list[str]]:
    """The parameter model, description and option order of the flow named ``name`` (from the registries)."""
    if name in DATASETS:
        spec = DATASETS[name]
        tables = ", ".join(t.qualified_name for t in spec.tables.values())
        return spec.parameters, f"Ingest {spec.title} into {tables}.", form_order(spec.parameters)
    snapshot = SNAPSHOTS[name]
    tables = ", ".join(t.qualified_name for t in snapshot.tables)
    return snapshot.parameters, f"Refresh {snapshot.title} in {tables}.", list(snapshot.parameters.model_fields)


def parser_for(name: str) -> argparse.ArgumentParser:
    """The parser of the flow named ``name``."""
    model, description, order = model_for(name)
    return build_parser(model, f"python -m flows.{name}", description, order)


def _error(message: str, code: int) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code


def main(name: str, argv: list[str] | None = None) -> int:
    """Parse and check the command line, run the flow, print its summary; returns the exit status.

    Exit status: 0 completed; 1 the run failed or the configuration is wrong; 2 bad parameters.
    """
    model, _, _ = model_for(name)
    arguments = vars(parser_for(name).parse_args(argv))
    debug = bool(arguments.pop("debug", False))
    if debug:
        os.environ["LOG_LEVEL"] = "DEBUG"
    try:
        parameters = validate_parameters(model, arguments)
        from ingestion_core.db.target import resolve_target
        from ingestion_core.settings import load_settings

        settings = load_settings()
        resolve_target(settings.database)  # a malformed DATABASE_URL is a configuration error, here
        _door_check(name, parameters, settings)
    except IngestError as exc:
        if debug:
            traceback.print_exc()
        return _error(str(exc), exc.exit_code)
    # Before Prefect reads its settings (at import): a busy machine needs longer than Prefect's 20 s default.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", EPHEMERAL_STARTUP_TIMEOUT_SECONDS)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    try:
        return _run(name, arguments)
    except Exception as exc:  # Prefect could not start the run (server unreachable...): one line, not a dump
        if debug:
            traceback.print_exc()
        return _error(f"{type(exc).__name__}: {exc} (--debug shows the traceback)", 1)


def _door_check(name: str, parameters: Any, settings: Any) -> None:
    """Connect, select and reach the API before Prefect starts: a wrong login or a silent host fails in seconds."""
    import asyncio
    import time

    from ingestion_core.api.client import process_pacer
    from ingestion_core.api.reachability import check_reachable
    from ingestion_core.pipeline.request import RunRequest
    from ingestion_core.pipeline.run import check_selection, check_target

    budget = process_pacer(settings.api).cross_process
    if budget is not None:
        budget.check()
    apis = DATASETS[name].apis if name in DATASETS else SNAPSHOTS[name].apis
    if not getattr(parameters, "dry_run", False):  # a dry run makes no call
        asyncio.run(check_reachable(settings.api, apis))
    if name in DATASETS:
        request = RunRequest.of(parameters, dataset=name, now=int(time.time()), settings=settings)
        asyncio.run(check_selection(settings, request))
    else:
        asyncio.run(check_target(settings, SNAPSHOTS[name].tables))


TEMPORARY_SERVER = (
    "note: PREFECT_API_URL is not set: Prefect starts a temporary local server for this run (about 10 s); "
    "`make server` starts one to reuse, then export the PREFECT_API_URL it prints"
)


def _run(name: str, arguments: dict[str, Any]) -> int:
    from prefect.client.schemas.objects import State
    from prefect.settings import get_current_settings

    from flows._registry import build_flow

    if not get_current_settings().api.url:
        print(TEMPORARY_SERVER, file=sys.stderr, flush=True)
    state = build_flow(name)(**arguments, return_state=True)
    if not isinstance(state, State):
        raise TypeError(f"flow returned {type(state).__name__}, expected a State")
    result = state.result(raise_on_failure=False)
    error = result if isinstance(result, IngestError) else None
    shown = error.summary if isinstance(error, RunFailed) and error.summary is not None else result
    render = getattr(shown, "render", None)
    if callable(render):
        print(render())
    if state.is_completed():
        return 0
    if error is not None:
        return _error(str(error), error.exit_code)
    return _error(f"flow run ended {state.name}: {state.message}", 1)
