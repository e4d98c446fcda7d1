"""Classification of one HTTP exchange with CCData, before anyone retries.

:func:`classify` is a pure function of ``(status, headers, body)`` (plus the request's ``to_ts`` and the current
time, which it cannot know otherwise). It returns one :data:`Outcome`; the client turns the outcome into a value
or into the exception named for the action (``ingestion_core.errors``):

=====================================================  =================================
Data API                                               outcome
=====================================================  =================================
200 with ``Data`` and an empty ``Err``                 :class:`Success`
200 / 4xx / 5xx body that is not JSON or lacks Data    :class:`Malformed` (200) / by status
400, 401, 403, 405, other 4xx                          :class:`Fatal`
404 "No HOUR entries available on or before ..." or    :class:`NoDataBefore` (not an error)
``other_info.first`` with ``to_ts < first``
404 anything else (unknown market, instrument, path)   :class:`Fatal`
429                                                    :class:`Retriable` ``rate_limited=True``
408, 5xx                                               :class:`Retriable`
=====================================================  =================================

Min API errors arrive as HTTP 200 with ``{"Response": "Error", "Type": n}``: ``Type`` 99 is a rate limit, every
other type (1, 2: bad parameter) is fatal. The Min API may also answer HTTP 429.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import orjson

from ingestion_core.api.rate_limit_headers import server_wait

_NO_DATA_MESSAGE = re.compile(r"(?i)\bno\s+\w+\s+entries\s+available\s+on\s+or\s+before\b")
MIN_API_RATE_LIMIT_TYPE = 99


@dataclass(frozen=True, slots=True)
class Success:
    """A usable response; ``payload`` is the decoded JSON object (whole envelope)."""

    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NoDataBefore:
    """The instrument has no data at or before ``to_ts`` (a 404 before its first bucket). Not an error.

    Attributes:
        first_ts: the instrument's first bucket when the API said so (``other_info.first``), else None.
        message: the API's message.
    """

    first_ts: int | None
    message: str


@dataclass(frozen=True, slots=True)
class Fatal:
    """A failure that repeating the request cannot fix; ``param`` names the parameter the API refused, if it said."""

    status: int
    message: str
    param: str | None = None


@dataclass(frozen=True, slots=True)
class Retriable:
    """A transient failure; ``retry_after`` is the server's requested wait in seconds when it gave one."""

    status: int
    message: str
    retry_after: float | None = None
    rate_limited: bool = False


@dataclass(frozen=True, slots=True)
class Malformed:
    """A 200 whose body is truncated, not JSON, or not the expected envelope."""

    status: int
    message: str


Outcome = Success | NoDataBefore | Fatal | Retriable | Malformed


# orjson reads an integer beyond 64 bits as a float instead of refusing it; such an integer has at least 19 digits.
# Digits -> "0", everything else -> " ": a run of 19 zeros is then a plain substring search (C speed, ~0.2 ms a MB).
_DIGITS_ONLY = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def decode_body(body: bytes) -> Any:
    """The JSON value of a body, as the standard library reads it; None when it is not JSON.

    ``orjson`` reads a well-formed UTF-8 body about four times faster (a 2,000-row history answer: ~4 ms instead of
    ~14 ms of CPU, the largest single cost of a backfill's client). It accepts less than the standard library (no
    ``NaN``, no invalid UTF-8, no lone surrogate escape, no BOM) and reads what it accepts to the same values, except
    an integer beyond 64 bits, which it turns into a float. So a body holding a run of 19 digits or more, and any
    body orjson refuses, is read the standard library's way, where bytes that are not valid UTF-8 survive as lone
    surrogates (surrogateescape) instead of failing the whole body: only the record holding them is then unusable,
    and the lone-surrogate rules quarantine that record alone.
    """
    if _LONG_DIGIT_RUN not in body.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(body.decode(json.detect_encoding(body), "surrogateescape"))
    except (UnicodeDecodeError, ValueError):
        return None


def _decode(body: bytes) -> dict[str, Any] | None:
    value = decode_body(body)
    return value if isinstance(value, dict) else None


def _err(payload: dict[str, Any] | None) -> dict[str, Any]:
    if payload is None:
        return {}
    err = payload.get("Err")
    return err if isinstance(err, dict) else {}


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _classify_404(err: dict[str, Any], to_ts: int | None) -> Outcome:
    message = str(err.get("message") or _reason(404))
    other = err.get("other_info")
    first = _as_int(other.get("first")) if isinstance(other, dict) else None
    if _NO_DATA_MESSAGE.search(message) or (first is not None and to_ts is not None and to_ts < first):
        return NoDataBefore(first_ts=first, message=message)
    param = other.get("param") if isinstance(other, dict) else None
    return Fatal(status=404, message=message, param=param if isinstance(param, str) else None)


def _classify_min_api(payload: dict[str, Any], headers: Mapping[str, str], now_epoch: float) -> Outcome:
    message = str(payload.get("Message") or "Min API error")
    kind = _as_int(payload.get("Type"))
    if kind == MIN_API_RATE_LIMIT_TYPE:
        cooldown = payload.get("Cooldown")
        wait = float(cooldown) if isinstance(cooldown, int | float) and not isinstance(cooldown, bool) else None
        if wait is None:
            wait = server_wait(headers, now_epoch)
        return Retriable(status=200, message=f"Min API rate limit: {message}", retry_after=wait, rate_limited=True)
    return Fatal(status=200, message=f"Min API error type {kind}: {message}")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "no message"


def classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    to_ts: int | None = None,
    now_epoch: float = 0.0,
) -> Outcome:
    """Classify one HTTP response of the Data API or the Min API.

    Args:
        status: HTTP status code.
        headers: response headers.
        body: the raw response body.
        to_ts: the request's ``to_ts`` (history endpoints), used to recognise "no data before".
        now_epoch: current Unix time, used to turn an HTTP-date ``Retry-After`` into seconds.

    Returns:
        The outcome; see the module docstring for the rules.
    """
    payload = _decode(body)
    if status == 200:
        if payload is None:
            return Malformed(status=status, message=f"body is not a JSON object ({len(body)} bytes)")
        if payload.get("Response") == "Error":
            return _classify_min_api(payload, headers, now_epoch)
        err = _err(payload)
        if err:
            return Fatal(status=status, message=str(err.get("message") or err))
        if "Data" not in payload:
            return Malformed(status=status, message="JSON envelope has no 'Data'")
        return Success(payload=payload)
    err = _err(payload)
    # Without a message of the API's own, the status's reason phrase: the caller already leads with "HTTP <status>".
    message = str(err.get("message") or _reason(status))
    if status == 429:
        return Retriable(status=status, message=message, retry_after=server_wait(headers, now_epoch), rate_limited=True)
    if status == 404:
        return _classify_404(err, to_ts)
    if status == 408 or status >= 500:
        return Retriable(status=status, message=message, retry_after=server_wait(headers, now_epoch))
    return Fatal(status=status, message=message)
