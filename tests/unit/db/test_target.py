"""DATABASE_URL / DB_* parsing: backend choice, clear errors, password never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion_core.db import open_warehouse
from ingestion_core.db.target import resolve_target
from ingestion_core.errors import ConfigurationError
from ingestion_core.settings import DatabaseSettings

pytestmark = pytest.mark.unit


def _settings(**kw: object) -> DatabaseSettings:
    return DatabaseSettings(_env_file=None, **kw)  # type: ignore[arg-type]


def test_default_is_sqlite_under_data_dir(tmp_path: Path) -> None:
    target = resolve_target(_settings(data_dir=tmp_path))
    assert target.backend == "sqlite"
    assert target.path == tmp_path / "warehouse.sqlite3"


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_database_url_means_unset(tmp_path: Path, empty: str) -> None:
    assert resolve_target(_settings(database_url=empty, data_dir=tmp_path)).path == tmp_path / "warehouse.sqlite3"
    assert resolve_target(_settings(database_url=empty, host="db.example")).host == "db.example"


@pytest.mark.parametrize(
    ("url", "port"), [("mysql://u@h/db", 3306), ("mysql://u@h:/db", 3306), ("mysql://u@[::1]:3307/db", 3307)]
)
def test_the_port_is_read_or_defaults(url: str, port: int) -> None:
    assert resolve_target(_settings(database_url=url)).port == port


def test_sqlite_urls_relative_and_absolute() -> None:
    assert resolve_target(_settings(database_url="sqlite:///rel/w.db")).path == Path("rel/w.db")
    assert resolve_target(_settings(database_url="sqlite:////abs/w.db")).path == Path("/abs/w.db")


@pytest.mark.parametrize("scheme", ["singlestoredb", "mysql", "mariadb"])
def test_server_urls(scheme: str) -> None:
    t = resolve_target(_settings(database_url=f"{scheme}://u:p%40ss@db.example:3307/wh"))
    assert (t.backend, t.host, t.port, t.user, t.password, t.database) == (
        "server",
        "db.example",
        3307,
        "u",
        "p@ss",
        "wh",
    )


def test_url_without_database_uses_db_name() -> None:
    assert resolve_target(_settings(database_url="mysql://u@h", name="t_abc")).database == "t_abc"


@pytest.mark.parametrize(
    "source",
    [{"database_url": "mysql://u@h/market"}, {"host": "h", "name": "market"}, {"database_url": "mysql://u@h"}],
)
def test_target_schema_replaces_the_database_whatever_names_it(source: dict[str, object]) -> None:
    assert resolve_target(_settings(**source)).database == "market"
    assert resolve_target(_settings(**source, target_schema="market_shadow")).database == "market_shadow"


def test_target_schema_on_sqlite_names_the_file(tmp_path: Path) -> None:
    assert resolve_target(_settings(data_dir=tmp_path, target_schema="shadow")).path == tmp_path / "shadow.sqlite3"


def test_target_schema_must_be_an_identifier() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="target_schema"):
        _settings(target_schema="market-shadow; DROP")


def test_legacy_db_host_selects_the_server_backend() -> None:
    t = resolve_target(_settings(host="10.0.0.5", port=3310, user="ing", password="pw", name="market"))
    assert (t.backend, t.host, t.port, t.database) == ("server", "10.0.0.5", 3310, "market")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgres://u:hunter2secret@h:5432/db", "unsupported scheme"),
        ("mysql://u:hunter2secret@:3306/db", "missing host"),
        ("mysql://u:hunter2secret@h:99999/db", "the port must be a number from 1 to 65535, not '99999'"),
        ("mysql://u:hunter2secret@h:abc/db", "the port must be a number from 1 to 65535, not 'abc'"),
        ("mysql://root@127.0.0.1:abc/db", "the port must be a number from 1 to 65535, not 'abc'"),
        ("mysql://u:hunter2secret@h:0/db", "the port must be a number from 1 to 65535, not '0'"),
        ("mysql://u:hunter2secret@[::1]:70000/db", "the port must be a number from 1 to 65535, not '70000'"),
        ("sqlite:///", "needs a path"),
        ("mysql://u:hunter2secret@h/bad-name", "invalid database name"),
    ],
)
def test_bad_urls_give_one_clear_configuration_error_without_the_password(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        open_warehouse(_settings(database_url=url))
    assert "hunter2secret" not in str(info.value)
    assert info.value.__cause__ is None


def test_target_repr_hides_the_password() -> None:
    t = resolve_target(_settings(database_url="mysql://u:hunter2secret@h/db"))
    assert "hunter2secret" not in repr(t)
    assert "h:3306" in t.describe()


MARKER = "Zq9-Marker"
UNPARSEABLE = [
    f"mysql://root:{MARKER}/x#1@127.0.0.1:3306/market",
    f"mysql://root:{MARKER}?q=1@127.0.0.1/market",
    f"mysql://root:{MARKER}#frag@127.0.0.1:3306/market",
    f"singlestoredb://root:123/{MARKER}@db.example/market",
]


@pytest.mark.parametrize("url", UNPARSEABLE)
def test_an_unencoded_password_is_refused_without_echoing_it(url: str) -> None:
    settings = _settings(database_url=url)  # registers the password, read leniently, before any parsing
    with pytest.raises(ConfigurationError, match="percent-encode special characters") as info:
        resolve_target(settings)
    assert MARKER not in str(info.value)
    assert "***" in str(info.value)
    from ingestion_core.redaction import redact

    assert MARKER not in redact(f"something printed {url} somewhere")


@pytest.mark.parametrize(
    ("url", "password", "host"),
    [
        (f"mysql://root:{MARKER}@db.example/market", MARKER, "db.example"),
        (f"mysql://root:p@{MARKER}@db.example/market", f"p@{MARKER}", "db.example"),  # an '@' the parser handles
        (f"mysql://root:a:{MARKER}@db.example/market", f"a:{MARKER}", "db.example"),
        ("mysql://root:p%2Fq%23r@db.example/market", "p/q#r", "db.example"),  # encoded: fine
    ],
)
def test_passwords_a_parser_reads_right_are_accepted(url: str, password: str, host: str) -> None:
    target = resolve_target(_settings(database_url=url))
    assert (target.password, target.host) == (password, host)
    assert password not in repr(target)
