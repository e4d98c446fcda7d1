"""Command line for any flow: every flow parameter becomes an option, the run summary prints as a table.

``python -m flows.futures_ohlcv --interval 1d --markets binance bybit --dry-run``. Without ``PREFECT_API_URL`` the
run uses Prefect's temporary local server; its start-up timeout is raised because the first start on a fresh
``PREFECT_HOME`` takes longer than Prefect's 20 s default on a small machine (docs/prefect-notes.md A8).
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import types
import typing
from datetime import UTC, datetime
from typing import Any, Literal, get_args, get_origin

from prefect import Flow
from prefect.client.schemas.objects import State


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


def build_parser(flow: Flow[..., Any]) -> argparse.ArgumentParser:
    """Build an argparse parser with one option per flow parameter, typed and described from the flow."""
    schema = flow.parameters.model_dump() if hasattr(flow.parameters, "model_dump") else {}
    props: dict[str, Any] = schema.get("properties", {})
    parser = argparse.ArgumentParser(
        prog=f"python -m flows.{flow.fn.__name__}",
        description=(inspect.getdoc(flow.fn) or "").split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    hints = typing.get_type_hints(flow.fn)
    for name, param in inspect.signature(flow.fn).parameters.items():
        annotation = _strip_optional(hints.get(name, str))
        help_text = props.get(name, {}).get("description") or name
        option = "--" + name.replace("_", "-")
        default = param.default if param.default is not inspect.Parameter.empty else None
        kwargs: dict[str, Any] = {"dest": name, "help": help_text, "default": default}
        origin = get_origin(annotation)
        if annotation is bool:
            kwargs.pop("default")
            parser.add_argument(option, action=argparse.BooleanOptionalAction, default=default, **kwargs)
            continue
        if origin is list:
            (item,) = get_args(annotation) or (str,)
            kwargs["nargs"] = "+"
            if get_origin(item) is Literal:
                kwargs["choices"] = list(get_args(item))
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
    return parser


def run_cli(flow: Flow[..., Any], argv: list[str] | None = None) -> int:
    """Parse the command line, run the flow, print its summary; exit code 1 when the run failed.

    Args:
        flow: the flow to run.
        argv: arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    args = build_parser(flow).parse_args(argv)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    state = flow(**vars(args), return_state=True)
    if not isinstance(state, State):
        raise TypeError(f"flow returned {type(state).__name__}, expected a State")
    result = state.result(raise_on_failure=False)
    render = getattr(result, "render", None)
    if callable(render):
        print(render())
    elif isinstance(result, BaseException):
        print(f"run failed: {type(result).__name__}: {result}", file=sys.stderr)
    if not state.is_completed():
        print(f"flow run ended {state.name}: {state.message}", file=sys.stderr)
        return 1
    return 0
