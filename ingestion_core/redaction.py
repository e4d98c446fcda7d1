"""Masking of secrets (API keys, passwords) in URLs, messages and log records.

The API key may travel in a header, a query parameter (``api_key=``/``apiKey=``) or a database URL password.
Everything that leaves the process (log lines, exception messages, artifacts) goes through :func:`redact`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import unquote

MASK = "***"

_QUERY_KEY = re.compile(r"(?i)((?:api_key|apikey|api-key)=)[^&\s\"']+")
_AUTH_HEADER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:apikey|basic|bearer)?\s*)[^\s'\",}]+")
# Greedy to the last "@" of the token: a password may hold an unencoded "/", "?", "#", ":" or "@".
_URL_PASSWORD = re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]+:)\S*(@)")

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that :func:`redact` masks it wherever it appears.

    Args:
        value: the secret; empty or very short values are ignored (they would mask ordinary text).
    """
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def url_password(url: str) -> str | None:
    """The password of ``scheme://user:password@host/...``, read leniently, or None when there is none.

    A URL parser splits ``mysql://root:Sec/ret#1@db/x`` at the ``/`` and ``#`` and never sees the password; this
    reading takes everything between the first ``:`` after the user name and the **last** ``@``, so the password
    can be registered as a secret (and masked everywhere) before anything tries to parse the URL.
    """
    _, sep, rest = url.partition("://")
    at = rest.rfind("@")
    if not sep or at < 0:
        return None
    _, colon, password = rest[:at].partition(":")
    return password if colon and password else None


def register_url_password(url: str) -> None:
    """Register the password of a connection URL (as written and percent-decoded) as a secret."""
    password = url_password(url)
    if password is not None:
        register_secret(password)
        register_secret(unquote(password))


def redact(text: str) -> str:
    """Return ``text`` with API keys, authorization values, URL passwords and registered secrets masked.

    Args:
        text: any string that may leave the process.

    Returns:
        The same string with every secret replaced by ``***``.
    """
    out = _QUERY_KEY.sub(rf"\g<1>{MASK}", text)
    out = _AUTH_HEADER.sub(rf"\g<1>{MASK}", out)
    out = _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<2>", out)
    with _lock:
        secrets: Iterable[str] = tuple(_secrets)
    for secret in secrets:
        out = out.replace(secret, MASK)
    return out


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the final message and in exception text of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place with secrets masked; never drops a record."""
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters reuse a cached exc_text, so caching the masked text masks every handler's output.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
