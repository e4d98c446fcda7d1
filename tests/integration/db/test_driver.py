"""The driver as this project loads it, over a real MariaDB connection in a fresh interpreter.

Fusion SQL is compiled only when it could run, and otherwise the driver behaves as it does without the stand-in:
statements reach the server, a Fusion command is refused by it while Fusion is off and runs client-side when it is
on. Connections share one TLS context.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin_db import MARIADB_HOST, MARIADB_PORT, require_mariadb

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]

PROBE = f"""
import json, sys
from ingestion_core.db import driver
out = {{}}
connections = [driver.connect(host={MARIADB_HOST!r}, port={MARIADB_PORT}, user="root", password="") for _ in range(2)]
cursor = connections[0].cursor()
cursor.execute("SELECT 40 + 2")
out["select"] = cursor.fetchall()[0][0]
out["grammars_compiled_after_select"] = "singlestoredb.fusion.handler" in sys.modules
try:
    cursor.execute("SHOW FUSION COMMANDS")
    out["fusion"] = [row[0] for row in cursor.fetchall()]
except driver.errors.ProgrammingError as exc:
    out["fusion"] = exc.args[0]
out["grammars_compiled"] = "singlestoredb.fusion.handler" in sys.modules
out["shared_tls"] = all(c.ctx is driver.tls_context("HIGH") for c in connections)
print(json.dumps(out))
"""


def probe(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SINGLESTOREDB_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_with_fusion_off_nothing_is_compiled_and_fusion_commands_go_to_the_server() -> None:
    require_mariadb()
    out = probe()
    assert out["select"] == 42
    assert out["fusion"] == 1064  # MariaDB's syntax error: the statement was sent to the server, as the driver does
    assert out["grammars_compiled"] is False
    assert out["shared_tls"] is True


def test_with_fusion_on_the_real_package_loads_and_runs_the_command_client_side() -> None:
    require_mariadb()
    out = probe(SINGLESTOREDB_FUSION_ENABLED="1")
    assert out["select"] == 42
    assert out["grammars_compiled_after_select"] is True  # asked "is this Fusion?" with Fusion on: real package
    assert isinstance(out["fusion"], list) and "SHOW FUSION COMMANDS" in " ".join(out["fusion"]).upper()
    assert out["grammars_compiled"] is True
