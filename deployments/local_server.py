"""``make server``: a local Prefect server in the background (SQLite), started once and reused by ad-hoc runs.

Without ``PREFECT_API_URL`` every ``python -m flows.X`` starts Prefect's temporary server first and stops it after:
about 10 s and 10 CPU-s of a run that is otherwise done in 2-3 s (bench/RESULTS.md, "Start-up and CPU"). This starts
one server for the machine's ad-hoc runs, under ``data/prefect-server`` (its SQLite database and log), on
127.0.0.1:4200 unless ``--port`` says otherwise, and prints the ``export PREFECT_API_URL=...`` line to use it.

    python -m deployments.local_server start    # idempotent: a server already answering there is reused
    python -m deployments.local_server status   # exit 0 when it answers, 1 when not
    python -m deployments.local_server stop

Scheduled runs belong on the real server (docs/operations.md); this one is for a developer's or an operator's
shell. ``make demo`` uses it when it answers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from ingestion_core.settings import PROJECT_ROOT

HOME = PROJECT_ROOT / "data" / "prefect-server"
HOST = "127.0.0.1"
DEFAULT_PORT = 4200
START_SECONDS = 120.0


def api_url(port: int) -> str:
    """The API URL of the local server on ``port``."""
    return f"http://{HOST}:{port}/api"


def answers(port: int, timeout: float = 2.0) -> bool:
    """Whether a Prefect server answers its health check on ``port``."""
    try:
        with urllib.request.urlopen(f"{api_url(port)}/health", timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def start(port: int) -> int:
    """Start the server unless one answers; print the export line. Returns the exit status."""
    pid_file = HOME / f"server-{port}.pid"
    if answers(port):
        print(f"a Prefect server already answers on {HOST}:{port}", file=sys.stderr)
    else:
        HOME.mkdir(parents=True, exist_ok=True)
        log = (HOME / f"server-{port}.log").open("ab")
        env = {
            **os.environ,
            "PREFECT_HOME": str(HOME),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # The UI calls the API where it was started, not on the default port (docs/operations.md, "Server").
            "PREFECT_UI_API_URL": api_url(port),
            "PREFECT_UI_URL": f"http://{HOST}:{port}",
        }
        env.pop("PREFECT_API_URL", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
        pid_file.write_text(str(process.pid), encoding="utf-8")
        deadline = time.monotonic() + START_SECONDS
        while not answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                print(f"error: the Prefect server did not start; see {HOME / f'server-{port}.log'}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        print(f"Prefect server started on {HOST}:{port} (log {HOME / f'server-{port}.log'})", file=sys.stderr)
    print(f"export PREFECT_API_URL={api_url(port)}")
    return 0


def stop(port: int) -> int:
    """Stop the server this command started on ``port`` (a server it did not start is left alone)."""
    pid_file = HOME / f"server-{port}.pid"
    if not pid_file.exists():
        print(f"no server started by make server on port {port}", file=sys.stderr)
        return 0
    pid = int(pid_file.read_text(encoding="utf-8"))
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    pid_file.unlink()
    print(f"Prefect server on {HOST}:{port} stopped", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m deployments.local_server", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["start", "status", "stop"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        parser.error("--port must be 1-65535")
    if args.command == "start":
        return start(args.port)
    if args.command == "stop":
        return stop(args.port)
    up = answers(args.port)
    print(f"Prefect server on {HOST}:{args.port}: {'answers' if up else 'not running'}")
    return 0 if up else 1


if __name__ == "__main__":
    raise SystemExit(main())
