"""The exception tree of ccdata-ingest, named for the action the caller should take.

Classify once, at the edge where the failure is seen; everything above only looks at the class::

    IngestError                      base of everything we raise on purpose
    ├── ConfigurationError           bad settings or arguments: fix the configuration, never retry
    ├── ApiError                     the CCData API answered something we cannot use as data
    │   ├── FatalApiError            400/401/403/404-unknown, Min API Type 1/2: do not retry
    │   └── RetriableApiError        5xx, timeouts, connection resets, truncated bodies: retry with backoff
    │       └── RateLimitedError     429 or Min API Type 99: wait for the window to reset, then retry
    ├── DataError                    a response we could read but cannot trust (malformed after retries,
    │                                schema breach): quarantine or fail the instrument, never retry blindly
    └── DatabaseError                the warehouse refused or could not be reached: fail the task; Prefect retries

"No data before <ts>" (a 404 before an instrument's first bucket) is **not** an error: the client returns it as a
distinct outcome so a window walk can end cleanly.

Messages never contain secrets: API keys are masked before a message is built (see ``ingestion_core.redaction``).
"""

from __future__ import annotations


class IngestError(Exception):
    """Base class of every exception ccdata-ingest raises on purpose."""


class ConfigurationError(IngestError):
    """Invalid settings, URLs or arguments. Fix the configuration; retrying cannot help."""


class ApiError(IngestError):
    """The CCData API returned something that is not usable data.

    Attributes:
        status: HTTP status code, or None when no response arrived (timeout, reset).
        url: the request URL with any API key masked.
    """

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.url = url


class FatalApiError(ApiError):
    """A request that will fail the same way if repeated (bad parameter, unknown instrument, auth)."""


class RetriableApiError(ApiError):
    """A transient failure: the same request may succeed after a backoff."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, url=url)
        self.retry_after = retry_after


class RateLimitedError(RetriableApiError):
    """Over the API key's rate limit; ``retry_after`` (seconds) says how long to wait when known."""


class DataError(IngestError):
    """A response that parsed as HTTP but cannot be trusted as data (malformed, truncated, schema breach)."""


class DatabaseError(IngestError):
    """The warehouse could not be reached or refused a statement."""
