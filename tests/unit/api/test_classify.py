from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion_core.api.classify import Fatal, Malformed, NoDataBefore, Retriable, Success, classify, decode_body
from tests.unit.datasets.fixture_files import fixtures_dir

pytestmark = pytest.mark.unit


def body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def err(message: str, **other: Any) -> bytes:
    payload: dict[str, Any] = {"type": 1, "message": message}
    if other:
        payload["other_info"] = other
    return body({"Data": {}, "Err": payload})


def test_success_envelope() -> None:
    outcome = classify(200, {}, body({"Data": [{"TIMESTAMP": 1}], "Err": {}}))
    assert outcome == Success(payload={"Data": [{"TIMESTAMP": 1}], "Err": {}})


@pytest.mark.parametrize("status", [400, 401, 403, 405, 422])
def test_client_errors_are_fatal(status: int) -> None:
    outcome = classify(status, {}, err("bad things"))
    assert outcome == Fatal(status=status, message="bad things")


def test_404_no_entries_message_is_no_data_before() -> None:
    outcome = classify(404, {}, err("No HOUR entries available on or before 1262304000"), to_ts=1262304000)
    assert outcome == NoDataBefore(first_ts=None, message="No HOUR entries available on or before 1262304000")


def test_404_with_first_after_to_ts_is_no_data_before() -> None:
    outcome = classify(404, {}, err("Not found", first=1_600_000_000, last=1_700_000_000), to_ts=1_500_000_000)
    assert isinstance(outcome, NoDataBefore)
    assert outcome.first_ts == 1_600_000_000


def test_404_message_with_first_keeps_first_ts() -> None:
    outcome = classify(404, {}, err("No MINUTE entries available on or before 5", first=60), to_ts=5)
    assert outcome == NoDataBefore(first_ts=60, message="No MINUTE entries available on or before 5")


def test_404_unknown_market_is_fatal() -> None:
    message = "Not found: market parameter. Value nope not integrated yet."
    outcome = classify(404, {}, err(message, param="market", values=["nope"]), to_ts=1)
    assert outcome == Fatal(status=404, message=message, param="market")


def test_404_first_not_after_to_ts_is_fatal() -> None:
    outcome = classify(404, {}, err("Not found: instrument", first=100), to_ts=200)
    assert isinstance(outcome, Fatal)


def test_404_without_body_is_fatal() -> None:
    assert classify(404, {}, b"") == Fatal(status=404, message="Not Found")


def test_429_is_rate_limited_with_reset_all_wait() -> None:
    headers = {
        "X-RateLimit-Remaining-All": "10, 0;window=1, 10;window=60",
        "X-RateLimit-Reset-All": "5, 1;window=1, 42;window=60",
    }
    outcome = classify(429, headers, err("over the limit"))
    assert outcome == Retriable(status=429, message="over the limit", retry_after=1.0, rate_limited=True)


def test_429_without_headers_has_no_wait() -> None:
    outcome = classify(429, {}, b"")
    assert isinstance(outcome, Retriable)
    assert outcome.rate_limited
    assert outcome.retry_after is None


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_server_errors_are_retriable(status: int) -> None:
    outcome = classify(status, {}, b"<html>oops</html>")
    assert isinstance(outcome, Retriable)
    assert not outcome.rate_limited


def test_503_honours_retry_after() -> None:
    outcome = classify(503, {"Retry-After": "3"}, b"")
    assert isinstance(outcome, Retriable)
    assert outcome.retry_after == 3.0


@pytest.mark.parametrize("raw", [b'{"Data": [1, 2', b"", b"not json", b"[1, 2]", b'"x"', b"\xff\xfe\x00garbage"])
def test_truncated_or_malformed_200_is_malformed(raw: bytes) -> None:
    assert isinstance(classify(200, {}, raw), Malformed)


def test_bytes_that_are_not_utf8_survive_as_lone_surrogates() -> None:
    outcome = classify(200, {}, b'{"Data": {"ok": "BTC", "BAD\xff-USDT": {"INSTRUMENT": "x\xc3(y"}}}')
    assert isinstance(outcome, Success)
    assert outcome.payload["Data"] == {"ok": "BTC", "BAD\udcff-USDT": {"INSTRUMENT": "x\udcc3(y"}}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_json_in_other_unicode_encodings_still_decodes(encoding: str) -> None:
    outcome = classify(200, {}, '{"Data": {"é": 1}}'.encode(encoding))
    assert isinstance(outcome, Success) and outcome.payload["Data"] == {"é": 1}


def test_200_without_data_is_malformed() -> None:
    assert isinstance(classify(200, {}, body({"Err": {}})), Malformed)


def test_200_with_err_is_fatal() -> None:
    outcome = classify(200, {}, err("weird"))
    assert outcome == Fatal(status=200, message="weird")


def test_min_api_type_99_is_rate_limited() -> None:
    payload = {"Response": "Error", "Message": "You are over your rate limit", "Type": 99, "Data": {}}
    outcome = classify(200, {}, body(payload))
    assert isinstance(outcome, Retriable)
    assert outcome.rate_limited
    assert outcome.retry_after is None


def test_min_api_type_99_cooldown_is_the_wait() -> None:
    payload = {"Response": "Error", "Message": "slow down", "Type": 99, "Cooldown": 7, "Data": {}}
    outcome = classify(200, {}, body(payload))
    assert isinstance(outcome, Retriable)
    assert outcome.retry_after == 7.0


@pytest.mark.parametrize("kind", [1, 2])
def test_min_api_bad_parameter_is_fatal(kind: int) -> None:
    payload = {"Response": "Error", "Message": "fsym param seems invalid.", "Type": kind, "Data": {}}
    outcome = classify(200, {}, body(payload))
    assert isinstance(outcome, Fatal)
    assert "fsym param seems invalid." in outcome.message


def test_min_api_success() -> None:
    payload = {"Response": "Success", "Type": 100, "Data": {"Data": []}}
    assert classify(200, {}, body(payload)) == Success(payload=payload)


def test_min_api_http_429_is_rate_limited() -> None:
    outcome = classify(429, {"Retry-After": "2"}, body({"Response": "Error", "Type": 99}))
    assert outcome == Retriable(status=429, message="Too Many Requests", retry_after=2.0, rate_limited=True)


def test_fixture_min_api_errors() -> None:
    root = fixtures_dir()
    limited = classify(200, {}, (root / "minapi_error_rate_limit_type99.json").read_bytes())
    assert isinstance(limited, Retriable) and limited.rate_limited
    missing = classify(200, {}, (root / "minapi_error_market_not_exist_type2.json").read_bytes())
    assert isinstance(missing, Fatal)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_the_fast_decoder_reads_every_body_as_the_standard_library_does(value: object, ascii_only: bool) -> None:
    # NaN, infinities and integers beyond 64 bits are outside orjson's JSON: the standard library reads them.
    text = json.dumps(value, ensure_ascii=ascii_only)
    expected = json.loads(text)
    got = decode_body(text.encode("utf-8", "surrogatepass"))
    assert repr(got) == repr(expected)  # repr: NaN == NaN, and 1 vs 1.0 vs True tell apart


def test_invalid_utf8_and_non_json_bodies_decode_as_before() -> None:
    assert decode_body(b'{"a": "x\\xff"}'.replace(b"\\xff", b"\xff")) == {"a": "x\udcff"}
    assert decode_body(b"<html>proxy error</html>") is None
    assert decode_body(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}  # a BOM


@pytest.mark.parametrize("literal", ["9223372036854775808", "-9223372036854775809", "123456789012345678901234567890"])
def test_integers_beyond_64_bits_stay_integers(literal: str) -> None:
    # orjson alone reads these as floats; the standard library (and so the parser's range checks) sees the integer.
    assert decode_body(f'{{"v": {literal}}}'.encode()) == {"v": int(literal)}
