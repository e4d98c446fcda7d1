"""A private ``mariadbd`` on its own port and data directory, which a test may kill and start again.

The shared MariaDB serves every other test; killing it would take them down. This one is created with
``mariadb-install-db`` in a temporary directory (about 3 s) and listens on 127.0.0.1 at a free port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.plugin_db import unavailable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateMariaDB:
    """One ``mariadbd`` process: ``start()``, ``kill()`` (SIGKILL: a crash, no clean shutdown), ``stop()``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        """Whether the server binaries are installed."""
        return bool(shutil.which("mariadbd") and shutil.which("mariadb-install-db"))

    def install(self) -> None:
        """Create the data directory (root without a password over TCP)."""
        self.root.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--user=root", "--skip-test-db",
             "--auth-root-authentication-method=normal"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until it accepts connections."""
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.data}", "--user=root", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.root / 'sock'}", f"--pid-file={self.root / 'pid'}",
             "--innodb-buffer-pool-size=64M", "--skip-log-bin", "--max-connections=200"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mariadbd exited {self.process.returncode}; see {self.root / 'server.log'}")
            if self.accepting():
                return
            time.sleep(0.1)
        raise RuntimeError("mariadbd did not accept connections in time")

    def accepting(self) -> bool:
        """Whether the server answers a query."""
        from singlestoredb.connection import connect

        try:
            conn = connect(host="127.0.0.1", port=self.port, user="root", password="", connect_timeout=1)
        except Exception:
            return False
        conn.close()
        return True

    def sql(self, statement: str) -> None:
        """Run one statement as root (e.g. create the database a run writes to, as the migration would)."""
        from singlestoredb.connection import connect

        conn = connect(host="127.0.0.1", port=self.port, user="root", password="", connect_timeout=5)
        try:
            conn.cursor().execute(statement)
        finally:
            conn.close()

    def freeze(self) -> None:
        """SIGSTOP the server: connections stay open and nothing answers (a hung host, a stalled VM)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT a frozen server."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the server (every connection drops; InnoDB recovers on the next start)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server for good."""
        self.thaw()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def private_mariadb(root: Path) -> PrivateMariaDB:
    """An installed and started private server (skips when the binaries are missing, fails under CI=true)."""
    if not PrivateMariaDB.available():
        unavailable("mariadbd / mariadb-install-db not installed")
    server = PrivateMariaDB(root)
    server.install()
    server.start()
    return server
