"""The tenacity retry policy of the CCData client.

Only :class:`~ingestion_core.errors.RetriableApiError` (including :class:`RateLimitedError`) is retried; fatal
errors, data errors and "no data before" pass straight through. The wait before the next attempt is, in order:

1. the server's wait carried by the exception (``Retry-After`` in seconds or HTTP-date form, or the reset of the
   binding exhausted ``X-RateLimit-Reset-All`` window), honoured in full plus a little jitter so that many waiting
   callers do not return in the same millisecond;
2. otherwise exponential backoff with full jitter: ``uniform(0, min(max_wait, factor * 2**(attempt-1)))``.

The sleep is injected (tests record the waits instead of waiting) and every retry is logged, redacted.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from ingestion_core.errors import RetriableApiError
from ingestion_core.redaction import redact
from ingestion_core.settings import ApiSettings

logger = logging.getLogger("ingestion_core.api")

Sleep = Callable[[float], Awaitable[None]]

SERVER_WAIT_JITTER_SECONDS = 0.1


class RetryWait:
    """tenacity ``wait`` strategy: the server's requested wait if any, else jittered exponential backoff.

    Args:
        backoff_factor: base of the exponential backoff in seconds.
        max_wait: cap of one backoff wait (server-requested waits are not capped: they are the API's rule).
        rng: random source (seeded in tests).
    """

    def __init__(self, backoff_factor: float, max_wait: float, rng: random.Random | None = None) -> None:
        self.backoff_factor = backoff_factor
        self.max_wait = max_wait
        self._rng = rng or random.Random()

    def __call__(self, retry_state: RetryCallState) -> float:
        """Return the seconds to wait before the next attempt."""
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RetriableApiError) and exc.retry_after is not None:
            return exc.retry_after + self._rng.uniform(0.0, SERVER_WAIT_JITTER_SECONDS)
        ceiling = min(self.max_wait, self.backoff_factor * 2 ** (retry_state.attempt_number - 1))
        return self._rng.uniform(0.0, ceiling)


def _log_before_sleep(retry_state: RetryCallState) -> None:
    outcome = retry_state.outcome
    exc = outcome.exception() if outcome is not None else None
    wait = retry_state.next_action.sleep if retry_state.next_action is not None else 0.0
    logger.warning(
        "%s",
        redact(f"retrying in {wait:.2f}s after attempt {retry_state.attempt_number}: {type(exc).__name__}: {exc}"),
    )


def build_retrying(settings: ApiSettings, sleep: Sleep, rng: random.Random | None = None) -> AsyncRetrying:
    """Build the retry controller for one request.

    Args:
        settings: supplies ``max_retries``, ``retry_backoff_factor`` and ``retry_max_wait_seconds``.
        sleep: the async sleep to use between attempts.
        rng: random source for the jitter.

    Returns:
        A tenacity ``AsyncRetrying`` that re-raises the last error when attempts run out.
    """
    return AsyncRetrying(
        retry=retry_if_exception_type(RetriableApiError),
        stop=stop_after_attempt(settings.max_retries + 1),
        wait=RetryWait(settings.retry_backoff_factor, settings.retry_max_wait_seconds, rng),
        sleep=sleep,
        before_sleep=_log_before_sleep,
        reraise=True,
    )
