"""Typed Polars Series from one response field's values, with the reason for every value that does not fit.

The fast path is one ``set(map(type, values))`` check plus one Series construction; it is what a well-formed page
takes for every field. Only a field holding something unexpected is walked value by value, to find the bad rows.
A JSON ``true``/``false`` is never a number here (Polars would silently turn it into 1/0, hence the type check).
Range and sign checks are not done here: they are Polars expressions over the whole frame (``history_parse``).
"""

from __future__ import annotations

from typing import Any

import polars as pl

_NONE = type(None)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_BUILD_ERRORS = (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError)

Bad = dict[int, str]


def text_values(values: list[Any], source: str, *, numbers: bool = True) -> tuple[pl.Series, Bad]:
    """String Series; an integer is kept as its decimal text (a code sent as a number), anything else is bad.

    Text UTF-8 cannot encode (a lone surrogate, from a JSON escape such as backslash-u D800) is bad too: no
    database stores it.

    Args:
        values: the field's values, one per record.
        source: the field's name, for the reasons.
        numbers: whether an integer is accepted as its decimal text (codes); False for names, where a number is
            not the name and is bad.
    """
    if set(map(type, values)) <= {str, _NONE}:
        try:
            return pl.Series(values, dtype=pl.String), {}
        except UnicodeEncodeError:
            pass  # a lone surrogate somewhere: find it below
    out: list[str | None] = []
    bad: Bad = {}
    for i, v in enumerate(values):
        if type(v) is str and not _encodable(v):
            out.append(None)
            bad[i] = f"text in {source} is not valid UTF-8 (lone surrogate)"
        elif v is None or type(v) is str:
            out.append(v)
        elif type(v) is int and numbers:
            out.append(str(v))
        elif type(v) is int:
            out.append(None)
            bad[i] = f"number in {source}, which holds a name"
        else:
            out.append(None)
            bad[i] = f"non-text value in {source}"
    return pl.Series(out, dtype=pl.String), bad


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def float_values(values: list[Any], source: str) -> tuple[pl.Series, Bad]:
    """Float64 Series; JSON ints (integral floats) are accepted, text/booleans/objects are bad."""
    if set(map(type, values)) <= {int, float, _NONE}:
        try:
            return pl.Series(values, dtype=pl.Float64), {}
        except _BUILD_ERRORS:
            pass  # a mix of ints and floats, or an int beyond float range: take the careful path
    out: list[float | None] = []
    bad: Bad = {}
    for i, v in enumerate(values):
        t = type(v)
        if v is None:
            out.append(None)
        elif t is int or t is float:
            try:
                out.append(float(v))
            except OverflowError:
                out.append(None)
                bad[i] = f"number out of range in {source}"
        else:
            out.append(None)
            bad[i] = f"non-numeric value in {source}"
    return pl.Series(out, dtype=pl.Float64), bad


def int_values(values: list[Any], source: str, *, what: str = "counter") -> tuple[pl.Series, Bad]:
    """Int64 Series; an integral float is accepted, a fractional one, text or a value beyond BIGINT is bad."""
    if set(map(type, values)) <= {int, _NONE}:
        try:
            return pl.Series(values, dtype=pl.Int64), {}
        except _BUILD_ERRORS:
            pass  # an int beyond BIGINT: find it below
    out: list[int | None] = []
    bad: Bad = {}
    for i, v in enumerate(values):
        t = type(v)
        if v is None:
            out.append(None)
        elif t is int:
            if _INT64_MIN <= v <= _INT64_MAX:
                out.append(v)
            else:
                out.append(None)
                bad[i] = f"{what} out of BIGINT range in {source}"
        elif t is float and v == v and abs(v) < 2.0**63 and v.is_integer():
            out.append(int(v))
        else:
            out.append(None)
            bad[i] = f"non-integer {what} in {source}" if t is float else f"non-numeric {what} in {source}"
    return pl.Series(out, dtype=pl.Int64), bad
