from __future__ import annotations

from pathlib import Path

import pytest

from ingestion_core.errors import ConfigurationError
from ingestion_core.settings import ApiSettings, DatabaseSettings, IngestionSettings, LoggingSettings, load_settings

pytestmark = pytest.mark.unit

ALL_VARIABLES = sorted(
    {
        choice
        for model in (ApiSettings, DatabaseSettings, IngestionSettings, LoggingSettings)
        for info in model.model_fields.values()
        if info.validation_alias is not None
        for choice in getattr(info.validation_alias, "choices", [])
        if isinstance(choice, str)
    }
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ALL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    return tmp_path


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("DB_PORT", "70000", "less than or equal to 65535"),
        ("DB_PORT", "not-a-port", "valid integer"),
        ("API_MAX_RETRIES", "-1", "greater than or equal to 0"),
        ("DATA_API_BASE_URL", "ftp://data-api.example", "must start with http:// or https://"),
        ("MIN_API_BASE_URL", "min-api.cryptocompare.com", "must start with http:// or https://"),
        ("LOG_LEVEL", "LOUD", "Input should be 'DEBUG'"),
        ("API_REQUEST_TIMEOUT_SECONDS", "soon", "valid number"),
        ("API_REQUESTS_PER_SECOND", "0", "greater than 0"),
        ("DB_CONNECTION_POOL_SIZE", "0", "greater than or equal to 1"),
        ("DB_NAME", "market; DROP", "should match pattern"),
        ("API_MALFORMED_BODY_RETRIES", "11", "less than or equal to 10"),
        ("ENVIRONMENT", "prod", "Input should be 'development'"),
        ("INGEST_INSTRUMENTS_PER_TASK", "0", "greater than or equal to 1"),
    ],
)
def test_bad_input_names_variable_and_rule(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, rule: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as info:
        load_settings(env_file=None)
    message = str(info.value)
    assert f"{variable}:" in message
    assert rule in message


@pytest.mark.parametrize(
    "key", ["k-Marker\r\n", "k\nMarker", "k\tMarker", "\ufeffk-Marker", "k\x7fMarker", "k\u200bMarker"]
)
def test_an_api_key_with_a_control_character_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("CCDATA_API_KEY", key)
    with pytest.raises(ConfigurationError, match=r"CCDATA_API_KEY: .*control or invisible character") as info:
        load_settings(env_file=None)
    assert "Marker" not in str(info.value)


@pytest.mark.parametrize("empty", ["", " "])
def test_an_empty_database_url_is_unset(monkeypatch: pytest.MonkeyPatch, empty: str) -> None:
    monkeypatch.setenv("DATABASE_URL", empty)
    assert load_settings(env_file=None).database.database_url is None


def test_all_problems_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_MAX_RETRIES", "-3")
    monkeypatch.setenv("DB_PORT", "0")
    with pytest.raises(ConfigurationError) as info:
        load_settings(env_file=None)
    assert "API_MAX_RETRIES" in str(info.value) and "DB_PORT" in str(info.value)


def test_legacy_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCDATA_API_KEY", "legacy-key-123")
    monkeypatch.setenv("DATA_API_BASE_URL", "https://data-api.coindesk.com/")
    monkeypatch.setenv("DB_HOST", "db.internal")
    monkeypatch.setenv("DB_PORT", "3307")
    monkeypatch.setenv("DB_NAME", "market_test")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("API_REQUEST_TIMEOUT_SECONDS", "12.5")
    monkeypatch.setenv("API_MAX_RETRIES", "2")
    monkeypatch.setenv("DB_CONNECTION_POOL_RECYCLE", "60")
    settings = load_settings(env_file=None)
    assert settings.api.api_key is not None
    assert settings.api.api_key.get_secret_value() == "legacy-key-123"
    assert settings.api.data_api_base_url == "https://data-api.coindesk.com"
    assert (settings.database.host, settings.database.port, settings.database.name) == (
        "db.internal",
        3307,
        "market_test",
    )
    assert settings.logging.level == "DEBUG"
    assert settings.api.request_timeout_seconds == 12.5
    assert settings.api.max_retries == 2
    assert settings.database.pool_recycle_seconds == 60
    assert "legacy-key-123" not in repr(settings)


def test_dotenv_file_is_read(clean_env: Path) -> None:
    (clean_env / ".env").write_text("API_REQUESTS_PER_SECOND=7\nDB_NAME=from_dotenv\n")
    settings = load_settings()  # default env_file=".env" relative to the working directory
    assert settings.api.requests_per_second == 7
    assert settings.database.name == "from_dotenv"


def test_explicit_env_file_and_environment_wins(monkeypatch: pytest.MonkeyPatch, clean_env: Path) -> None:
    env_file = clean_env / "custom.env"
    env_file.write_text("API_MAX_RETRIES=9\nINGEST_MAX_CONCURRENCY=3\n")
    monkeypatch.setenv("API_MAX_RETRIES", "1")
    settings = load_settings(env_file=env_file)
    assert settings.api.max_retries == 1
    assert settings.ingestion.max_concurrency == 3


def test_bad_value_in_dotenv_names_variable(clean_env: Path) -> None:
    (clean_env / ".env").write_text("DB_PORT=-5\n")
    with pytest.raises(ConfigurationError, match=r"DB_PORT: .*greater than or equal to 1"):
        load_settings()


def test_overrides_by_field_name() -> None:
    settings = load_settings(env_file=None, api={"requests_per_second": 5})
    assert settings.api.requests_per_second == 5
    with pytest.raises(ConfigurationError, match="API_REQUESTS_PER_SECOND"):
        load_settings(env_file=None, api={"requests_per_second": -1})


def test_settings_are_frozen() -> None:
    settings = load_settings(env_file=None)
    with pytest.raises(ValueError, match="frozen"):
        settings.api.max_retries = 3  # type: ignore[misc]
