"""Which warehouse to open: ``DATABASE_URL`` or the legacy ``DB_*`` variables, parsed into a :class:`Target`.

``sqlite:///relative/path`` or ``sqlite:////absolute/path``; ``singlestoredb://user:pass@host:port/db``,
``singlestore://``, ``mysql://`` or ``mariadb://``. Unset URL and no ``DB_HOST``: an SQLite file under ``data_dir``.
``TARGET_SCHEMA`` (shadow mode) replaces the database every table lives in, whatever the URL or ``DB_NAME`` say.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from ingestion_core.db.tables import check_identifier
from ingestion_core.errors import ConfigurationError
from ingestion_core.redaction import MASK, url_password
from ingestion_core.settings import DatabaseSettings

Backend = Literal["sqlite", "server"]
SERVER_SCHEMES = ("singlestoredb", "singlestore", "mysql", "mariadb")
SQLITE_FILE = "warehouse.sqlite3"


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed connection target. ``password`` never appears in ``repr`` or messages."""

    backend: Backend
    host: str = ""
    port: int = 3306
    user: str = ""
    password: str = ""
    database: str = "market"
    path: Path | None = None

    def __repr__(self) -> str:
        return f"Target({self.describe()})"

    def describe(self) -> str:
        """``host:port/database`` or the SQLite path, for messages (no password)."""
        if self.backend == "sqlite":
            return f"sqlite {self.path}"
        return f"server {self.user}@{self.host}:{self.port}/{self.database}"


def resolve_target(settings: DatabaseSettings) -> Target:
    """Parse the settings into a target.

    Raises:
        ConfigurationError: unknown scheme, missing host or path, bad port or database name (password masked).
    """
    target = _resolve(settings)
    schema = settings.target_schema
    if schema is None:
        return target
    if target.backend == "sqlite" and target.path is not None:
        return dataclasses.replace(target, path=target.path.with_name(f"{schema}.sqlite3"))
    return dataclasses.replace(target, database=schema)  # shadow mode: every table in this schema, nothing else


def _resolve(settings: DatabaseSettings) -> Target:
    if settings.database_url is not None:
        return _parse_url(settings.database_url.get_secret_value(), settings)
    if settings.host:
        return Target(
            backend="server",
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password.get_secret_value(),
            database=settings.name,
        )
    return Target(backend="sqlite", path=Path(settings.data_dir) / SQLITE_FILE)


_ENCODE_HINT = (
    "percent-encode special characters in the user name and password (/ as %2F, ? as %3F, # as %23, @ as %40, "
    ": as %3A, % as %25)"
)


def _parse_url(url: str, settings: DatabaseSettings) -> Target:
    shown = _mask(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConfigurationError(f"DATABASE_URL {shown} is not a valid URL: {_ENCODE_HINT}") from None
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        raw = unquote(parts.path)
        if not raw or raw == "/":
            raise ConfigurationError(f"DATABASE_URL {shown}: sqlite URL needs a path (sqlite:///file.db)")
        return Target(backend="sqlite", path=Path(raw[1:]))  # sqlite:///rel -> rel, sqlite:////abs -> /abs
    if scheme not in SERVER_SCHEMES:
        raise ConfigurationError(
            f"DATABASE_URL {shown}: unsupported scheme {scheme!r}; use sqlite, {', '.join(SERVER_SCHEMES)}"
        )
    lenient = url_password(url)
    if lenient is not None and lenient != parts.password:
        # The parser split the URL inside the password (an unencoded / ? # @ or :): what it calls the host,
        # port or path is a piece of the password. Refuse rather than connect somewhere made of it.
        raise ConfigurationError(f"DATABASE_URL {shown} is not a valid URL: {_ENCODE_HINT}")
    if not parts.hostname:
        raise ConfigurationError(f"DATABASE_URL {shown}: missing host")
    port = _port(parts.netloc.rpartition("@")[2], shown)
    database = unquote(parts.path.lstrip("/")) or settings.name
    try:
        check_identifier(database)
    except ConfigurationError:
        raise ConfigurationError(f"DATABASE_URL {shown}: invalid database name {database!r}") from None
    return Target(
        backend="server",
        host=parts.hostname,
        port=port or 3306,
        user=unquote(parts.username or settings.user),
        password=unquote(parts.password) if parts.password is not None else settings.password.get_secret_value(),
        database=database,
    )


def _port(host_port: str, shown: str) -> int | None:
    """The port of ``host[:port]`` (None when absent), or the configuration error saying what is wrong with it."""
    _, colon, text = host_port.rpartition("]")[2].rpartition(":")  # after an IPv6 literal's closing bracket
    if not colon or not text:
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ConfigurationError(f"DATABASE_URL {shown}: the port must be a number from 1 to 65535, not {text!r}")
    return int(text)


def _mask(url: str) -> str:
    """The URL with any password (read leniently, see ``url_password``) replaced by ``***``."""
    password = url_password(url)
    if password is None:
        return url
    head, _, rest = url.partition("://")
    at = rest.rfind("@")
    user = rest[:at].partition(":")[0]
    return f"{head}://{user}:{MASK}@{rest[at + 1 :]}"
