"""The shared TLS context is used only where the driver would have built its unverified default one."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from typing import Any

import pytest
from singlestoredb.connection import build_params
from singlestoredb.mysql.connection import Connection as ProtocolConnection  # type: ignore[attr-defined]

from ingestion_core.db.driver import tls_context, with_tls_context

DEFAULTS = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def driver_context(params: dict[str, Any]) -> ssl.SSLContext:
    """The context the driver itself builds for ``params`` (its own method, no connection opened)."""
    sslp = {"ca": params.get("ssl_ca"), "check_hostname": False, "verify_mode": False, "cipher": params["ssl_cipher"]}
    context: ssl.SSLContext = ProtocolConnection._create_ssl_ctx(None, sslp)
    return context


def test_defaults_get_the_shared_context_equal_to_the_drivers_own() -> None:
    params = build_params(**DEFAULTS)
    assert params["ssl_cipher"] == "HIGH"  # the driver's default, which makes it build a context per connection
    out = with_tls_context(params)
    assert out["ssl"] is tls_context("HIGH")
    assert out["ssl_cipher"] is None
    mine, theirs = out["ssl"], driver_context(params)
    assert (
        (mine.verify_mode, mine.check_hostname)
        == (theirs.verify_mode, theirs.check_hostname)
        == (
            ssl.CERT_NONE,
            False,
        )
    )
    assert mine.minimum_version == theirs.minimum_version
    assert mine.options == theirs.options
    assert [c["name"] for c in mine.get_ciphers()] == [c["name"] for c in theirs.get_ciphers()]
    assert params.get("ssl") is None  # the caller's parameters are not modified


@pytest.mark.parametrize(
    "configured",
    [
        {"ssl_ca": "/etc/ssl/certs/ca-certificates.crt"},
        {"ssl_cert": "client.pem"},
        {"ssl_key": "client.key"},
        {"ssl_verify_cert": True},
        {"ssl_verify_identity": True},
        {"ssl_disabled": True},
        {"ssl_cipher": ""},
    ],
    ids=lambda c: next(iter(c)),
)
def test_any_tls_configuration_is_left_to_the_driver(configured: dict[str, Any]) -> None:
    params = build_params(**DEFAULTS, **configured)
    assert with_tls_context(params) is params


def test_tls_options_from_the_environment_count_as_configured() -> None:
    # The driver reads its SINGLESTOREDB_* options when it is imported: a fresh interpreter sees the variable.
    code = (
        "from ingestion_core.db.driver import with_tls_context\n"
        "from singlestoredb.connection import build_params\n"
        "p = build_params(host='127.0.0.1')\n"
        "print(p['ssl_ca'], with_tls_context(p) is p)\n"
    )
    env = {**os.environ, "SINGLESTOREDB_SSL_CA": "/etc/ssl/certs/ca-certificates.crt"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["/etc/ssl/certs/ca-certificates.crt", "True"]


def test_a_different_cipher_list_gets_its_own_context() -> None:
    out = with_tls_context(build_params(**DEFAULTS, ssl_cipher="ECDHE+AESGCM"))
    assert out["ssl"] is tls_context("ECDHE+AESGCM")
    assert out["ssl"] is not tls_context("HIGH")
