"""A local webhook receiver standing in for the alert channel: records every POST it gets, with its arrival time."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Notification:
    """One POST: when it arrived (``time.time()``) and its JSON body."""

    received: float
    body: dict[str, Any]

    def text(self) -> str:
        """Subject and body together, for matching."""
        return f"{self.body.get('subject', '')}\n{self.body.get('body', '')}"


@dataclass
class Receiver:
    """The notifications received so far."""

    url: str
    _items: list[Notification] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: Notification) -> None:
        with self._lock:
            self._items.append(item)

    def all(self) -> list[Notification]:
        with self._lock:
            return list(self._items)

    def matching(self, needle: str) -> list[Notification]:
        return [n for n in self.all() if needle in n.text()]

    def wait_for(self, needle: str, timeout: float) -> list[Notification]:
        """Wait until a notification containing ``needle`` arrived (or the timeout passed); return the matches."""
        deadline = time.monotonic() + timeout
        while not self.matching(needle) and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.matching(needle)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    """Serve on a free local port until the context ends."""
    receiver_ref: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"raw": raw.decode(errors="replace")}
            receiver_ref[0].add(Notification(received=time.time(), body=body if isinstance(body, dict) else {}))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver_ref.append(Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/alerts"))
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver_ref[0]
    finally:
        server.shutdown()
        server.server_close()
