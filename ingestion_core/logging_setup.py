"""Process logging: level, plain or JSON lines, and secret redaction on every root handler.

:func:`configure_logging` is idempotent: calling it again replaces nothing it installed before and never adds a
second filter or handler. Handlers added later by other libraries (e.g. Prefect's) also get the filter when
``configure_logging`` is called after them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from ingestion_core.redaction import RedactingFilter, redact
from ingestion_core.settings import LoggingSettings

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY_LOGGERS = ("httpx", "httpcore")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message`` and ``exc`` when present."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a JSON line (secrets masked)."""
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = redact(record.exc_text or self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class _OwnedHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marker type for the handler installed by :func:`configure_logging`."""


def _console_handlers(root: logging.Logger) -> list[logging.Handler]:
    return [
        h
        for h in root.handlers
        if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) in (sys.stderr, sys.stdout)
    ]


def configure_logging(settings: LoggingSettings) -> None:
    """Configure the root logger from ``settings`` and install :class:`RedactingFilter` on every root handler.

    Args:
        settings: level and format (``json_format`` = one JSON object per line).
    """
    root = logging.getLogger()
    root.setLevel(settings.level)
    formatter: logging.Formatter = JsonFormatter() if settings.json_format else logging.Formatter(PLAIN_FORMAT)
    for noisy in NOISY_LOGGERS:  # one INFO line per Prefect API request drowns the run's own log
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    owned = [handler for handler in root.handlers if isinstance(handler, _OwnedHandler)]
    if not owned and not _console_handlers(root):  # under Prefect, its console handler already prints: no copy
        created = _OwnedHandler(sys.stderr)
        root.addHandler(created)
        owned = [created]
    for item in owned:
        item.setFormatter(formatter)
    for handler in root.handlers:
        if not any(isinstance(item, RedactingFilter) for item in handler.filters):
            handler.addFilter(RedactingFilter())
