"""The ``singlestoredb`` driver, imported without the start-up cost of the parts this project never uses.

Importing the driver's MySQL-protocol connection module imports its Fusion SQL package, which compiles the grammar
of every Fusion command (client-side SQL extensions such as ``SHOW FUSION COMMANDS`` or workspace management) with
``parsimonious``: 0.6-0.8 s of CPU in every process that opens a connection, more than the rest of a run's
database work when it is up to date (bench/RESULTS.md, "Start-up and CPU"). The driver consults that package on
every statement, but only to answer "is this a Fusion command?", and its answer is always "no" unless the
``fusion.enabled`` option is on (``SINGLESTOREDB_FUSION_ENABLED``; off by default, and this project never turns it
on). :class:`DeferredFusion` stands in for the package until something needs more than that answer: with the
option off it answers ``None`` like the driver's own ``get_handler`` does; any other use, or the option on, imports
the real package and hands over to it. Behaviour is the driver's, minus the grammar compilation nobody asked for.

The driver also builds a fresh default TLS context for every connection, re-reading the system's certificate
bundle each time (~25 ms), although with no CA configured it never verifies the server with it. :func:`tls_context`
builds that same unverified context once per process; :func:`with_tls_context` passes it only when nothing about
TLS was configured (the driver's defaults), and leaves any configured CA, certificate or verification to the driver.

Import ``singlestoredb`` through this module (:func:`connect`, :data:`errors`) so the stand-in is in place first.
"""

from __future__ import annotations

import functools
import importlib
import ssl
import sys
import threading
import types
from typing import Any

FUSION_MODULE = "singlestoredb.fusion"


class DeferredFusion(types.ModuleType):
    """Stands in for ``singlestoredb.fusion`` until a Fusion command could actually run."""

    def __init__(self) -> None:
        super().__init__(FUSION_MODULE, "Deferred stand-in for singlestoredb.fusion (see ingestion_core.db.driver).")
        self._lock = threading.Lock()
        self._module: types.ModuleType | None = None

    def get_handler(self, sql: str | bytes) -> Any:
        """The Fusion handler for ``sql``: ``None`` while Fusion is off, else the real package's answer.

        Args:
            sql: The statement about to be sent.

        Returns:
            ``None`` (send the statement to the server), or the handler class that runs it client-side.
        """
        from singlestoredb.utils.config import get_option

        if not get_option("fusion.enabled"):
            return None
        return self.load().get_handler(sql)

    def load(self) -> types.ModuleType:
        """Import the real package (once) and return it."""
        with self._lock:
            if self._module is None:
                if sys.modules.get(FUSION_MODULE) is self:
                    del sys.modules[FUSION_MODULE]
                self._module = importlib.import_module(FUSION_MODULE)
            return self._module

    def __getattr__(self, name: str) -> Any:
        # Only reached for names this object does not have: everything else the driver uses (execute, ...).
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.load(), name)


def _install() -> None:
    if "singlestoredb" not in sys.modules and FUSION_MODULE not in sys.modules:
        sys.modules[FUSION_MODULE] = DeferredFusion()


_install()

import singlestoredb.exceptions as errors  # noqa: E402  (the stand-in must be in place before the driver loads)
from singlestoredb.connection import Connection, build_params  # noqa: E402
from singlestoredb.connection import connect as _driver_connect  # noqa: E402

#: The driver's TLS parameters besides the cipher list; when none is set, :func:`with_tls_context` supplies it.
_TLS_PARAMETERS = ("ssl", "ssl_key", "ssl_cert", "ssl_ca", "ssl_verify_cert", "ssl_verify_identity")


@functools.cache
def tls_context(ciphers: str) -> ssl.SSLContext:
    """The TLS context the driver builds when no CA is configured, built once per process.

    Like the driver's: TLS 1.2 or later, the given cipher list, no hostname check and no certificate verification
    (without a CA there is nothing to verify against); unlike it, without loading the system CA bundle it would
    never consult.

    Args:
        ciphers: The cipher list (the driver's ``ssl_cipher`` option, ``HIGH`` by default).

    Returns:
        A context shared by every connection of the process (``SSLContext`` is safe to share).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers(ciphers)
    return context


def with_tls_context(params: dict[str, Any]) -> dict[str, Any]:
    """Resolved connection parameters, with the shared TLS context when TLS is left to the driver's defaults.

    Args:
        params: The driver's resolved parameters (``build_params``: arguments, ``SINGLESTOREDB_*`` options and
            defaults).

    Returns:
        ``params`` unchanged if TLS is disabled or configured in any way (a CA, a certificate, verification, a
        context) or has no cipher list; otherwise a copy with ``ssl`` set to :func:`tls_context` and
        ``ssl_cipher`` cleared (the context carries it).
    """
    if params.get("ssl_disabled") or any(params.get(name) for name in _TLS_PARAMETERS) or not params.get("ssl_cipher"):
        return params
    return {**params, "ssl": tls_context(str(params["ssl_cipher"])), "ssl_cipher": None}


def connect(*, read_timeout: float | None = None, **arguments: Any) -> Connection:
    """Open a driver connection, as the driver's ``connect`` does, with every wait bounded.

    The driver bounds only the TCP connect by ``connect_timeout``: its handshake then waits for the server's
    greeting with no limit, so a port that accepts TCP but never speaks MySQL (a Redis or an HTTP server) hangs the
    caller for good, and a PostgreSQL port for its own 60 s authentication timeout. Its ``build_params`` also drops
    ``read_timeout``. Here the handshake is bounded by ``connect_timeout`` too, and every later read or write of a
    statement by ``read_timeout`` (a server frozen mid-statement then surfaces as a lost connection, errno 2013).

    Args:
        read_timeout: Seconds any one read or write of a statement may wait (None: no bound).
        **arguments: Keyword arguments for the driver's ``connect`` (``connect_timeout`` bounds the TCP connect
            and the handshake).

    Returns:
        The open connection.
    """
    params = build_params(**arguments)
    if params.get("driver") not in (None, "", "mysql"):
        return _driver_connect(**arguments)  # the HTTP API driver: no MySQL-protocol TLS to share
    # The driver's own class for this protocol (the module is untyped upstream).
    from singlestoredb.mysql.connection import Connection as ProtocolConnection  # type: ignore[attr-defined]

    handshake = params.get("connect_timeout")
    connection: Connection = ProtocolConnection(
        **with_tls_context(params), read_timeout=handshake, write_timeout=handshake
    )
    # Past the handshake, statements get their own bound (the driver reads these per socket read and write).
    connection._read_timeout = read_timeout  # type: ignore[attr-defined]
    connection._write_timeout = read_timeout  # type: ignore[attr-defined]
    return connection


__all__ = ["Connection", "DeferredFusion", "connect", "errors", "tls_context", "with_tls_context"]
