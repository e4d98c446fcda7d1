"""Envelopes and errors of the simulated APIs (docs/ccdata-api.md §2.1, §4.1, §5.1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class DataApiError(Exception):
    """A Data API error: rendered as ``{"Data": {}, "Err": {"type", "message", "other_info"}}`` with ``status``."""

    def __init__(self, status: int, message: str, other_info: dict[str, Any] | None = None, err_type: int = 1):
        super().__init__(message)
        self.status = status
        self.message = message
        self.other_info = other_info
        self.err_type = err_type

    def body(self) -> dict[str, Any]:
        """Return the JSON body of the error."""
        err: dict[str, Any] = {"type": self.err_type, "message": self.message}
        if self.other_info is not None:
            err["other_info"] = self.other_info
        return {"Data": {}, "Err": err}


class MinApiError(Exception):
    """A Min API error: HTTP 200 with ``{"Response": "Error", "Type": 2, ...}``."""

    def __init__(self, message: str, param: str | None = None, err_type: int = 2):
        super().__init__(message)
        self.message = message
        self.param = param
        self.err_type = err_type

    def body(self) -> dict[str, Any]:
        """Return the JSON body of the error."""
        body: dict[str, Any] = {
            "Response": "Error",
            "Message": self.message,
            "HasWarning": False,
            "Type": self.err_type,
            "RateLimit": {},
            "Data": {},
        }
        if self.param is not None:
            body["ParamWithError"] = self.param
        return body


@dataclass(slots=True)
class Reply:
    """What a handler returns: the body, its HTTP status and bookkeeping for the stats."""

    body: dict[str, Any]
    status: int = 200
    rows: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    cacheable: bool = False


def data_ok(data: Any, rows: int = 0) -> Reply:
    """Return a Data API success reply (``Err`` is an empty object, not null)."""
    return Reply(body={"Data": data, "Err": {}}, rows=rows)


def min_ok(data: Any, rows: int = 0) -> Reply:
    """Return a Min API success reply."""
    return Reply(
        body={"Response": "Success", "Message": "", "HasWarning": False, "Type": 100, "RateLimit": {}, "Data": data},
        rows=rows,
    )


def bad_param(param: str, value: Any, message: str | None = None) -> DataApiError:
    """Return a 400 error for an invalid parameter value."""
    text = message or f"Bad request: the {param} parameter value {value!r} is not valid."
    return DataApiError(400, text, {"param": param, "values": [value]})


def parse_bool(raw: str | None, name: str, default: bool) -> bool:
    """Parse ``true``/``false``/``1``/``0`` (case-insensitive); anything else is a 400."""
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise bad_param(name, raw)


def parse_int(
    raw: str | None, name: str, default: int | None, low: int | None = None, high: int | None = None
) -> int | None:
    """Parse an integer parameter within ``[low, high]``; a bad value is a 400 naming the parameter."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_param(name, raw) from None
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_param(name, value, f"Bad request: {name} must be {bounds}, got {value}.")
    return value


def split_csv(raw: str | None) -> list[str]:
    """Split a comma-separated array parameter (the API sends arrays as one CSV value)."""
    if not raw:
        return []
    return [part.strip() for part in raw.split(",") if part.strip()]
