from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator

import pytest
from _pytest.logging import LogCaptureHandler
from aioresponses import aioresponses
from pydantic import SecretStr

from ingestion_core.api.client import CcdataClient
from ingestion_core.api.pacing import Pacer
from ingestion_core.errors import ApiError
from ingestion_core.logging_setup import JsonFormatter, configure_logging
from ingestion_core.redaction import RedactingFilter, redact
from ingestion_core.settings import ApiSettings, LoggingSettings, load_settings

pytestmark = pytest.mark.unit

KEY = "sk-redaction-test-9f8e7d6c5b4a"


async def no_wait(_: float) -> None:
    return None


def api_settings(base: str) -> ApiSettings:
    return ApiSettings(
        _env_file=None, data_api_base_url=base, api_key=SecretStr(KEY), max_retries=2, retry_backoff_factor=0
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def root_logging() -> Iterator[None]:
    # Hermetic: console handlers left on the root by earlier tests (e.g. Prefect's, after a flow test) are set aside,
    # so the test sees what configure_logging installs on a fresh process.
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    filters = {id(handler): list(handler.filters) for handler in handlers}
    for handler in handlers:
        if getattr(handler, "stream", None) is not None and not isinstance(handler, LogCaptureHandler):
            root.removeHandler(handler)
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        handler.filters = filters[id(handler)]
        root.addHandler(handler)
    root.setLevel(level)


async def test_key_never_leaks_from_failing_requests(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    caplog.set_level(logging.DEBUG)
    configure_logging(LoggingSettings(_env_file=None, level="DEBUG"))
    assert any(isinstance(f, RedactingFilter) for f in caplog.handler.filters)
    texts: list[str] = []
    pacer = Pacer(1000)
    # 1. The server echoes the key back in an error body (with the key also in a query-string form).
    echo = {"Data": {}, "Err": {"message": f"bad key {KEY} in api_key={KEY}"}}
    async with CcdataClient(api_settings("http://data.test"), sleep=no_wait, pacer=pacer) as client:
        texts.append(repr(client))
        with aioresponses() as m:
            m.get("http://data.test/spot/v1/markets", status=401, payload=echo)
            with pytest.raises(ApiError) as fatal:
                await client.data_api("/spot/v1/markets")
            m.get("http://data.test/futures/v1/markets", status=500, body=f"upstream said {KEY}", repeat=True)
            with pytest.raises(ApiError) as retried:
                await client.data_api("/futures/v1/markets")
    # 2. A real connection error over a socket (nothing listens on the port), retried and logged.
    base = f"http://127.0.0.1:{free_port()}"
    async with CcdataClient(api_settings(base), sleep=no_wait, pacer=pacer) as client:
        with pytest.raises(ApiError) as refused:
            await client.history(
                "/futures/v1/historical/hours",
                interval="1h",
                identity={"market": "b", "instrument": KEY},
                to_ts=1,
                limit=1,
            )
    logging.getLogger("test").error("explicit log of %s", KEY)
    for info in (fatal, retried, refused):
        texts += [str(info.value), repr(info.value), str(info.value.url)]
    out, err = capsys.readouterr()
    texts += [caplog.text, out, err, repr(api_settings(base)), repr(load_settings(env_file=None))]
    assert "retrying in" in caplog.text  # the retries really were logged
    assert "explicit log of ***" in err
    for text in texts:
        assert KEY not in text


def test_redact_masks_query_and_header_forms() -> None:
    assert redact("GET /x?api_key=abcdef&limit=1") == "GET /x?api_key=***&limit=1"
    assert redact("{'Authorization': 'Apikey abcdef'}") == "{'Authorization': 'Apikey ***'}"
    assert redact("mysql://user:pw1234@db:3306/market") == "mysql://user:***@db:3306/market"


def test_configure_logging_is_idempotent(root_logging: None) -> None:
    settings = LoggingSettings(_env_file=None, level="warning", json_format=True)
    configure_logging(settings)
    configure_logging(settings)
    root = logging.getLogger()
    assert root.level == logging.WARNING
    for handler in root.handlers:
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    owned = [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]
    assert len(owned) == 1


def test_json_formatter_lines() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key %s", (f"api_key={KEY}",), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "INFO" and line["logger"] == "x"
    assert line["message"] == "key api_key=***"
