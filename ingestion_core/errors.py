"""The exception tree of ccdata-ingest, named for the action the caller should take, and the one retry rule.

Classify once, at the edge where the failure is seen; everything above only looks at the class::

    IngestError                      base of everything we raise on purpose; ``retriable`` says what to do
    ├── ConfigurationError           bad settings: fix the configuration (exit 1), never retry
    ├── ParameterError               bad run parameters: fix the command or the form (exit 2), never retry
    ├── ApiError                     the CCData API answered something we cannot use as data
    │   ├── FatalApiError            400/401/403/404-unknown, Min API Type 1/2: never retry
    │   ├── UnreachableApiError      no HTTP answer at all at the door (refused, DNS, TLS): never retry
    │   └── RetriableApiError        5xx, timeouts, connection resets, truncated bodies: retry with backoff
    │       └── RateLimitedError     429 or Min API Type 99: wait for the window to reset, then retry
    ├── DataError                    a response we could read but cannot trust: quarantine or fail the series
    ├── DatabaseError                the warehouse refused (never retried: access denied, unknown database,
    │                                unkeyed table) or could not be reached (retried: connection lost, deadlock)
    └── RunFailed                    a run ended with failed series; retriable only if one of them is

"No data before <ts>" (a 404 before an instrument's first bucket) is **not** an error: the client returns it as a
distinct outcome so a window walk can end cleanly.

:func:`is_retriable` is the single retry rule used at every level: the HTTP client (tenacity), Prefect task
retries and flow retries all ask it. An error it calls permanent fails the run at once with its own message.

Messages never contain secrets: keys and passwords are masked before a message is built (``redaction``).
"""

from __future__ import annotations

from typing import ClassVar


class IngestError(Exception):
    """Base class of every exception ccdata-ingest raises on purpose.

    Attributes:
        retriable: whether repeating the same action can succeed (class default, instances may override).
        kind: a short, stable name of the failure's class for summaries, events and the run log.
        exit_code: the process exit status a command-line run ends with for this error.
    """

    retriable: bool = False
    kind: ClassVar[str] = "error"
    exit_code: ClassVar[int] = 1


class ConfigurationError(IngestError):
    """Invalid settings or a target that cannot work as configured. Fix the configuration; never retried."""

    kind = "configuration"


class ParameterError(IngestError):
    """Invalid run parameters (a command-line option or a Prefect form field). Fix them; never retried."""

    kind = "parameter"
    exit_code = 2


class ApiError(IngestError):
    """The CCData API returned something that is not usable data.

    Attributes:
        status: HTTP status code, or None when no response arrived (timeout, reset).
        url: the request URL with any API key masked.
        param: the request parameter the API named as the problem (``instrument``, ``market``), when it did.
    """

    kind = "api"

    def __init__(
        self, message: str, *, status: int | None = None, url: str | None = None, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.param = param


class FatalApiError(ApiError):
    """A request that will fail the same way if repeated (bad parameter, unknown instrument, auth)."""

    kind = "api-fatal"


class UnreachableApiError(ApiError):
    """The API's host gave no HTTP answer when a run began (refused, unknown name, TLS failure, no route).

    Only a host that never answered in this process is judged this way; one that answered and drops mid-run raises
    :class:`RetriableApiError` and is retried.
    """

    kind = "api-unreachable"


class RetriableApiError(ApiError):
    """A transient failure: the same request may succeed after a backoff."""

    retriable = True
    kind = "api-transient"

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

    kind = "rate-limited"


class DataError(IngestError):
    """A response that parsed as HTTP but cannot be trusted as data (malformed, truncated, schema breach)."""

    kind = "data"


class DatabaseError(IngestError):
    """The warehouse could not be reached or refused a statement.

    Args:
        message: what happened (target named, password never included).
        retriable: True for a lost connection, a deadlock or a lock timeout; False for access denied, an unknown
            database, a missing key and other refusals that repeat identically.
    """

    kind = "database"

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class RunFailed(IngestError):
    """A run ended with failed series; carries the run's summary for the caller.

    Args:
        message: the run's failure message (failed series first, with the HTTP status and reason).
        summary: the run summary (any object; the CLI renders it).
        retriable: whether any failed series failed for a reason a retry can fix.
    """

    kind = "run-failed"

    def __init__(self, message: str, *, summary: object = None, retriable: bool = False) -> None:
        super().__init__(message)
        self.summary = summary
        self.retriable = retriable


def is_retriable(exc: BaseException) -> bool:
    """The one retry rule: may repeating the failed action succeed?

    =====================================================  =========
    error                                                  retried
    =====================================================  =========
    :class:`IngestError`                                   its ``retriable`` flag
    ``TimeoutError``, ``ConnectionError`` (OS level)        yes
    anything else (a bug: ``TypeError``, ``KeyError``...)   no
    =====================================================  =========
    """
    if isinstance(exc, IngestError):
        return exc.retriable
    return isinstance(exc, TimeoutError | ConnectionError)


def error_kind(exc: BaseException) -> str:
    """A short, stable name of an error's class (``api-fatal``, ``database``, ``internal``...)."""
    if isinstance(exc, IngestError):
        return exc.kind
    if isinstance(exc, TimeoutError | ConnectionError):
        return "network"
    return "internal"
