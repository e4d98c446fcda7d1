"""Settings, split by domain, read once from the environment and ``.env``.

The legacy variable names of the old scripts keep working (``CCDATA_API_KEY``, ``DATA_API_BASE_URL``, ``DB_HOST``,
...). Build a :class:`Settings` once per run with :func:`load_settings` and pass it down; nothing else in the code
base reads ``os.environ``. Invalid values raise :class:`~ingestion_core.errors.ConfigurationError` naming the
variable and the rule it broke.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingestion_core.errors import ConfigurationError
from ingestion_core.redaction import register_secret, register_url_password

PROJECT_ROOT = Path(__file__).resolve().parent.parent

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Environment = Literal["development", "test", "staging", "production"]


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def _empty_is_unset(value: object) -> object:
    """An empty or blank value means unset (``DATABASE_URL=`` in a .env file, an empty variable in a unit file)."""
    return None if isinstance(value, str) and not value.strip() else value


class _DomainSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True, populate_by_name=True
    )


class ApiSettings(_DomainSettings):
    """How to reach the CCData APIs and how hard to push them."""

    api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("CCDATA_API_KEY"), description="CCData API key (sent as a header)."
    )
    data_api_base_url: str = Field(
        default="https://data-api.cryptocompare.com",
        validation_alias=_env("DATA_API_BASE_URL"),
        description="Base URL of the Data API (data-api.cryptocompare.com and data-api.coindesk.com are aliases).",
    )
    min_api_base_url: str = Field(
        default="https://min-api.cryptocompare.com",
        validation_alias=_env("MIN_API_BASE_URL"),
        description="Base URL of the legacy Min API.",
    )
    request_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        validation_alias=_env("API_REQUEST_TIMEOUT_SECONDS"),
        description="Total timeout of one HTTP request.",
    )
    connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        validation_alias=_env("API_CONNECT_TIMEOUT_SECONDS"),
        description="Seconds to open a TCP connection to the API (within API_REQUEST_TIMEOUT_SECONDS).",
    )
    max_retries: int = Field(
        default=5,
        ge=0,
        le=20,
        validation_alias=_env("API_MAX_RETRIES"),
        description="Retries of one request after a transient failure (429, 5xx, timeout).",
    )
    retry_backoff_factor: float = Field(
        default=1.0,
        ge=0,
        le=60,
        validation_alias=_env("API_RETRY_BACKOFF_FACTOR"),
        description="Exponential backoff base in seconds: waits are factor * 2**attempt, with jitter.",
    )
    retry_max_wait_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        validation_alias=_env("API_RETRY_MAX_WAIT_SECONDS"),
        description="Upper bound of one backoff wait.",
    )
    requests_per_second: float = Field(
        default=20.0,
        gt=0,
        le=10_000,
        validation_alias=_env("API_REQUESTS_PER_SECOND"),
        description=(
            "Request budget shared by every client of the process (of every process with API_SHARED_BUDGET_URL); "
            "the pacer never exceeds it."
        ),
    )
    shared_budget_url: SecretStr | None = Field(
        default=None,
        validation_alias=_env("API_SHARED_BUDGET_URL"),
        description=(
            "Redis URL (redis://host:6379/0) holding one request budget for every process using this API key; "
            "API_REQUESTS_PER_SECOND is then the key's total. Unset: each process paces itself alone."
        ),
    )
    max_connections: int = Field(
        default=32,
        ge=1,
        le=1000,
        validation_alias=_env("API_MAX_CONNECTIONS"),
        description="Connection limit of one client session.",
    )
    malformed_body_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        validation_alias=_env("API_MALFORMED_BODY_RETRIES"),
        description="How many times a truncated or malformed body is re-requested before it is a data error.",
    )

    @field_validator("api_key")
    @classmethod
    def _printable_key(cls, value: SecretStr | None) -> SecretStr | None:
        # A line break pasted with the key ends up in the Authorization header, where the HTTP library refuses it
        # on the first request, deep inside a run. The key itself is never part of the message.
        if value is not None and any(unicodedata.category(c) in ("Cc", "Cf") for c in value.get_secret_value()):
            raise ValueError(
                "contains a control or invisible character (a line break or tab copied with it?): set the key alone"
            )
        return value

    @field_validator("shared_budget_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        url = value.get_secret_value()
        register_url_password(url)
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://, e.g. redis://127.0.0.1:6379/0")
        return value

    @field_validator("data_api_base_url", "min_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        try:
            host = urlsplit(value).hostname
        except ValueError:
            host = None
        if not host:
            raise ValueError("must name a host, e.g. https://data-api.cryptocompare.com")
        return value.rstrip("/")


class DatabaseSettings(_DomainSettings):
    """Which warehouse to write to. ``DATABASE_URL`` wins over the legacy ``DB_*`` variables."""

    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=_env("DATABASE_URL"),
        description="sqlite:///path, singlestoredb://user:pass@host:port/db or mysql://...; unset (or empty) = the "
        "DB_* variables, or embedded SQLite without DB_HOST.",
    )
    host: str | None = Field(default=None, validation_alias=_env("DB_HOST"), description="Legacy: server host.")

    _database_url_unset = field_validator("database_url", mode="before")(_empty_is_unset)

    @field_validator("database_url")
    @classmethod
    def _mask_url_password(cls, value: SecretStr | None) -> SecretStr | None:
        # Registered before anything parses the URL: a password with an unencoded / ? # @ : breaks a URL parser,
        # and the broken URL must not be echoed with the password in it by any error path.
        if value is not None:
            register_url_password(value.get_secret_value())
        return value

    port: int = Field(default=3306, ge=1, le=65535, validation_alias=_env("DB_PORT"), description="Server port.")
    user: str = Field(default="root", validation_alias=_env("DB_USER"), description="Server user.")
    password: SecretStr = Field(
        default=SecretStr(""), validation_alias=_env("DB_PASSWORD"), description="Server password."
    )
    name: str = Field(
        default="market",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        validation_alias=_env("DB_NAME"),
        description="Database the legacy tables live in (the `market` schema of the table names).",
    )
    target_schema: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        validation_alias=_env("TARGET_SCHEMA"),
        description="Schema (server database) every table is read from and written to, e.g. market_shadow for a "
        "parallel run beside the legacy market tables; unset = the URL's database or DB_NAME. On SQLite it names "
        "the file (SCHEMA.sqlite3 beside the default one).",
    )
    pool_size: int = Field(
        default=4,
        ge=1,
        le=64,
        validation_alias=_env("DB_CONNECTION_POOL_SIZE"),
        description="Connections per warehouse (one per worker thread).",
    )
    pool_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        validation_alias=_env("DB_CONNECTION_POOL_TIMEOUT", "DB_CONNECTION_POOL_TIMEOUT_SECONDS"),
        description="How long to wait for a free pooled connection before failing.",
    )
    pool_recycle_seconds: int = Field(
        default=3600,
        ge=0,
        validation_alias=_env("DB_CONNECTION_POOL_RECYCLE", "DB_CONNECTION_POOL_RECYCLE_SECONDS"),
        description="Reconnect a pooled connection older than this (0 = never).",
    )
    connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        validation_alias=_env("DB_CONNECT_TIMEOUT_SECONDS"),
        description="Seconds to open a connection: the TCP connect, then the server's handshake (a port that "
        "accepts TCP but never answers as a MySQL server fails after this long).",
    )
    read_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        le=86_400,
        validation_alias=_env("DB_READ_TIMEOUT_SECONDS"),
        description="Seconds a statement may wait for the server to answer (or to accept what is sent); past it "
        "the connection counts as lost: retried like one, then the run fails. Raise it for statements that "
        "legitimately run longer.",
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        validation_alias=_env("DATA_DIR"),
        description="Where the embedded SQLite database and local state live.",
    )
    upsert_batch_rows: int = Field(
        default=5000,
        ge=1,
        le=1_000_000,
        validation_alias=_env("DB_UPSERT_BATCH_ROWS"),
        description="Rows per committed batch of the multi-row upsert path.",
    )
    bulk_threshold_rows: int = Field(
        default=500,
        ge=1,
        validation_alias=_env("DB_BULK_THRESHOLD_ROWS"),
        description="Frames with at least this many rows use the LOAD DATA staging path (bench/upsert on MariaDB: "
        "both paths tie at 200 rows, the staging path is ~1.9x faster at 1,000).",
    )
    bulk_batch_rows: int = Field(
        default=50_000,
        ge=1,
        le=1_000_000,
        validation_alias=_env("DB_BULK_BATCH_ROWS"),
        description="Rows per committed batch of the LOAD DATA staging path (bench/upsert: 50k beats 5k by ~30%).",
    )


class IngestionSettings(_DomainSettings):
    """Defaults for how flows split and pace their work."""

    environment: Environment = Field(
        default="development", validation_alias=_env("ENVIRONMENT"), description="Deployment environment name."
    )
    instruments_per_task: int = Field(
        default=25,
        ge=1,
        le=10_000,
        validation_alias=_env("INGEST_INSTRUMENTS_PER_TASK"),
        description="Instruments handled by one Prefect task run.",
    )
    max_concurrency: int = Field(
        default=8,
        ge=1,
        le=1000,
        validation_alias=_env("INGEST_MAX_CONCURRENCY"),
        description="Instruments fetched concurrently inside one task.",
    )
    task_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        validation_alias=_env("INGEST_TASK_RETRIES"),
        description="Prefect retries of an ingest task whose group had a failed instrument (each re-plans from "
        "the stored watermarks, so done instruments cost nothing).",
    )
    crypto_price_pairs: Annotated[list[str], NoDecode] = Field(
        default=["BTC/USD", "ETH/USD"],
        validation_alias=_env("CRYPTO_PRICE_PAIRS"),
        description="Min API pairs of the crypto_prices flows when they are given none: FSYM/TSYM, comma-separated.",
    )
    record_api_usage: bool = Field(
        default=True,
        validation_alias=_env("RECORD_API_USAGE"),
        description="Record the key's usage (pre and post rows in cc_rate_limit_status) around every run; each "
        "record costs one API call, as in the legacy scripts.",
    )
    hole_attempts: int = Field(
        default=5,
        ge=1,
        le=1000,
        validation_alias=_env("INGEST_HOLE_ATTEMPTS"),
        description="How many answers may come back without a bucket missing below a series' watermark (its record "
        "quarantined, or left out) before later runs stop re-requesting it; it stays reported as a permanent hole.",
    )
    revision_buckets: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict,
        validation_alias=_env("INGEST_REVISION_BUCKETS"),
        description="Buckets before each watermark that incremental runs read again because the API revises them, "
        "overriding the datasets' defaults (1m: 45, 1h: 3, 1d: 3): comma-separated INTERVAL=N or DATASET_INTERVAL=N, "
        "e.g. 1m=60,index_ohlcv_1d=5 (0 turns it off).",
    )
    coins_table: str = Field(
        default="production.coins",
        pattern=r"^[a-z_][a-z0-9_]{0,63}\.[a-z_][a-z0-9_]{0,63}$",
        validation_alias=_env("COINS_TABLE"),
        description="The other system's coin registry the asset_coin_uid_map flow matches assets to, as schema.table "
        "on the warehouse's server (columns coin_uid, ticker, name, coingecko_id, coinmarketcap_id).",
    )
    task_retry_delay_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        validation_alias=_env("INGEST_TASK_RETRY_DELAY_SECONDS"),
        description="Delay before the first task retry; doubled for each further retry (jittered by Prefect).",
    )

    @field_validator("revision_buckets", mode="before")
    @classmethod
    def _revision_buckets(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        parsed: dict[str, int] = {}
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            name, sep, count = part.partition("=")
            if not sep or not REVISION_KEY.fullmatch(name.strip()) or not count.strip().isdigit():
                raise ValueError(f"entries must be INTERVAL=N or DATASET_INTERVAL=N, e.g. 1m=60 (got {part!r})")
            if int(count) > 100_000:
                raise ValueError(f"at most 100000 buckets (got {part!r})")
            parsed[name.strip()] = int(count)
        return parsed

    @field_validator("crypto_price_pairs", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return price_pairs(value) if isinstance(value, list) else value


PRICE_PAIR = re.compile(r"[A-Za-z0-9]{1,30}/[A-Za-z0-9]{1,30}")
REVISION_KEY = re.compile(r"([a-z][a-z0-9_]*_)?(1m|1h|1d)")


def price_pairs(values: list[object]) -> list[str]:
    """Min API pairs as ``FSYM/TSYM``, upper-cased (the setting and the flow parameter share this rule).

    Raises:
        ValueError: a value is not ``FSYM/TSYM``; the message lists them.
    """
    bad = [p for p in values if not isinstance(p, str) or not PRICE_PAIR.fullmatch(p)]
    if bad:
        raise ValueError(f"pairs must be FSYM/TSYM, e.g. BTC/USD ETH/EUR (got {', '.join(map(repr, bad))})")
    return [str(p).upper() for p in values]


class LoggingSettings(_DomainSettings):
    """Log verbosity and format."""

    level: LogLevel = Field(default="INFO", validation_alias=_env("LOG_LEVEL"), description="Root log level.")
    json_format: bool = Field(
        default=False, validation_alias=_env("LOG_JSON"), description="Emit one JSON object per line."
    )

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseModel):
    """All settings of one run, grouped by domain."""

    model_config = ConfigDict(frozen=True)

    api: ApiSettings
    database: DatabaseSettings
    ingestion: IngestionSettings
    logging: LoggingSettings
    notifications: NotificationSettings


def _variable_name(model: type[BaseSettings], field: str) -> str:
    info = model.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, AliasChoices):
        first = info.validation_alias.choices[0]
        return first if isinstance(first, str) else field
    return field.upper()


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Build the run's settings from the environment and ``env_file``.

    Args:
        env_file: a dotenv file to read after the environment (None to read none).
        **overrides: per-domain overrides, e.g. ``api={"requests_per_second": 5}``; keys are field names.

    Returns:
        The frozen settings.

    Raises:
        ConfigurationError: a variable is invalid; the message names the variable and the rule.
    """
    parts: dict[str, BaseSettings] = {}
    domains: dict[str, type[_DomainSettings]] = {
        "api": ApiSettings,
        "database": DatabaseSettings,
        "ingestion": IngestionSettings,
        "logging": LoggingSettings,
        "notifications": NotificationSettings,
    }
    problems: list[str] = []
    for domain, model in domains.items():
        values = overrides.get(domain) or {}
        if not isinstance(values, dict):
            raise ConfigurationError(f"override for {domain!r} must be a dict of field values")
        try:
            parts[domain] = model(_env_file=env_file, **values)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else "?"
                name = _variable_name(model, field)
                if field not in model.model_fields:
                    name = field
                    for candidate, info in model.model_fields.items():
                        alias = info.validation_alias
                        if isinstance(alias, AliasChoices) and field in alias.choices:
                            name = _variable_name(model, candidate)
                problems.append(f"{name}: {err['msg']}")
    if problems:
        raise ConfigurationError("invalid configuration: " + "; ".join(problems))
    api = parts["api"]
    assert isinstance(api, ApiSettings)
    if api.api_key is not None:
        register_secret(api.api_key.get_secret_value())
    database = parts["database"]
    assert isinstance(database, DatabaseSettings)
    register_secret(database.password.get_secret_value())
    notifications = parts["notifications"]
    assert isinstance(notifications, NotificationSettings)
    for url in (notifications.webhook_url, notifications.slack_webhook_url):
        register_secret(None if url is None else url.get_secret_value())
    return Settings.model_validate(parts)


_SLACK_WEBHOOK = re.compile(r"^https://hooks\.slack\.com/services/[A-Za-z0-9]+/[A-Za-z0-9]+/[A-Za-z0-9]+$")
_BLOCK_REFERENCE = re.compile(r"^[a-z0-9][a-z0-9-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


class NotificationSettings(_DomainSettings):
    """Where the alert automations send notifications. Read by ``make deploy`` (``deployments/deploy.py``).

    None set is allowed (the automations are created and notify nobody; the deploy warns); a value that cannot
    work is a configuration error, raised before the deploy changes anything.
    """

    webhook_url: SecretStr | None = Field(
        default=None,
        validation_alias=_env("ALERT_WEBHOOK_URL"),
        description="http(s) URL that receives one JSON POST {subject, body, name} per alert.",
    )
    slack_webhook_url: SecretStr | None = Field(
        default=None,
        validation_alias=_env("ALERT_SLACK_WEBHOOK_URL"),
        description="Slack incoming-webhook URL (https://hooks.slack.com/services/T.../B.../...).",
    )
    notification_block: str | None = Field(
        default=None,
        validation_alias=_env("ALERT_NOTIFICATION_BLOCK", "NOTIFY_BLOCK"),
        description="An existing Prefect notification block as TYPE_SLUG/NAME (e.g. pager-duty-webhook/ops).",
    )

    _unset = field_validator("webhook_url", "slack_webhook_url", "notification_block", mode="before")(_empty_is_unset)

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            url = value.get_secret_value().strip()
            scheme, sep, rest = url.partition("://")
            if scheme not in ("http", "https") or not sep or not rest.split("/", 1)[0]:
                raise ValueError("must be an http:// or https:// URL with a host")
            return SecretStr(url)
        return value

    @field_validator("slack_webhook_url")
    @classmethod
    def _slack_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SLACK_WEBHOOK.match(value.get_secret_value().strip()):
            raise ValueError("must look like https://hooks.slack.com/services/T.../B.../...")
        return None if value is None else SecretStr(value.get_secret_value().strip())

    @field_validator("notification_block")
    @classmethod
    def _block_reference(cls, value: str | None) -> str | None:
        if value is not None and not _BLOCK_REFERENCE.match(value.strip()):
            raise ValueError("must be TYPE_SLUG/NAME, e.g. slack-webhook/ops-alerts")
        return None if value is None else value.strip()
