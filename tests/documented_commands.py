"""The commands README.md and docs/operations.md show, and how the tests run each one as written.

Every command in a ``bash`` block of either document, and every inline one (in backticks, starting ``python -m``,
``make``, ``prefect``, ``systemctl`` or ``cp``), must match exactly one :data:`RULES` entry, or the test fails: a
command added to the docs is run, or its exemption is written down here with the reason. Where a rule runs:

* ``local``: ``tests/integration/test_documented_commands.py``, in stage order, against the simulator, an SQLite
  warehouse and the test session's Prefect server;
* ``server``: ``tests/e2e/test_operations.py``, against the end-to-end test's Prefect server and deployments;
* ``exempt``: not run, for the reason given (long-running processes the e2e stack starts itself, the test suites,
  systemd, shell builtins).

Placeholders are filled the same way every time (:data:`PLACEHOLDERS`); ``[--option VALUE]`` runs once without and
once with the options; ``a|b`` runs once per alternative.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/operations.md")

_BLOCK = re.compile(r"```(?:bash|sh|shell)\n(.*?)```", re.S)
_INLINE = re.compile(r"`((?:\.venv/bin/)?(?:python -m|make|prefect|systemctl|cp) [^`]+)`")

Where = Literal["local", "server", "exempt"]


@dataclass(frozen=True)
class Documented:
    """One command as the docs show it (comments and ``.venv/bin/`` dropped, continuation lines joined)."""

    text: str
    docs: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """How the tests treat the commands matching ``pattern`` (a regular expression matching the whole command).

    Attributes:
        pattern: the commands it covers.
        where: ``local``, ``server`` or ``exempt``.
        why: the reason for an exemption; for the others, what the test arranges around the command.
        stage: order of the local commands (a migration before a read, a discovery before an ingest).
    """

    pattern: str
    where: Where
    why: str = ""
    stage: int = 5


def _normalize(line: str) -> str:
    line = line.strip()
    if line.startswith("#"):
        return ""
    line = re.sub(r"\s+#\s.*$", "", line)  # a trailing comment
    line = re.sub(r"(^|\s)\.venv/bin/(python|prefect)\b", r"\1\2", line)
    line = line.removesuffix("&").strip()
    return re.sub(r"\s+", " ", line)


def documented() -> list[Documented]:
    """Every command the two documents show, once each, in order of first appearance."""
    seen: dict[str, list[str]] = {}
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        found: list[str] = []
        for block in _BLOCK.finditer(text):
            found += [_normalize(line) for line in block.group(1).replace("\\\n", " ").splitlines()]
        found += [_normalize(m.group(1)) for m in _INLINE.finditer(text)]
        for command in found:
            if command:
                seen.setdefault(command, [])
                if doc not in seen[command]:
                    seen[command].append(doc)
    return [Documented(text, tuple(docs)) for text, docs in seen.items()]


LONG_RUNNING = "a long-running process: the e2e stack starts it itself, as documented (tests/e2e)"

RULES: tuple[Rule, ...] = (
    # Exempt: not commands (assignments, shell builtins) or processes that do not end.
    Rule(r"export [A-Z_]+=\S+", "exempt", "sets a variable for the commands after it"),
    Rule(r"wait", "exempt", "a shell builtin: waits for the commands started with & above it"),
    Rule(r"make test", "exempt", "the test suite itself (.ci/run runs it)"),
    Rule(r"make e2e", "exempt", "the end-to-end suite (tests/e2e), which runs the server commands below"),
    Rule(
        r"make worker|python -m deployments\.worker.*|PREFECT_API_URL=\.\.\. python -m deployments\.worker.*",
        "exempt",
        LONG_RUNNING + ": WorkerProcess runs python -m deployments.worker with these options",
    ),
    Rule(r"prefect worker start", "exempt", "named as what not to use (no draining on SIGTERM)"),
    Rule(r"prefect server start.*", "exempt", LONG_RUNNING + ": tests/e2e/servers.py starts it so"),
    Rule(r"make sim", "exempt", "the simulator, serving until stopped (python -m ingestion_core.sim --help is run)"),
    Rule(
        r"systemctl .*",
        "exempt",
        "systemd on a worker host (the unit file is deployments/ccdata-ingest-worker.service)",
    ),
    Rule(r"prefect deploy", "exempt", "what make deploy runs for new and changed deployments (run by it in e2e)"),
    Rule(
        r"prefect deployment schedule pause --all",
        "exempt",
        "named by the runbook as the command not to run: it pauses every deployment on the server",
    ),
    # Local: the simulator, an SQLite warehouse, the session's Prefect server.
    Rule(r"make setup", "local", "", stage=0),
    Rule(r"cp \.env\.example \.env", "local", "in a scratch copy of the repository's .env.example", stage=0),
    Rule(r"make demo", "local", "writes data/demo/ (ignored by git), as documented", stage=0),
    Rule(r"python -m ingestion_core\.db\.migrate.*", "local", "", stage=1),
    Rule(r"python -m ingestion_core\.db\.ddl --check", "local", "", stage=1),
    Rule(r"python -m ingestion_core\.sim --help", "local", "", stage=1),
    Rule(r"python -m flows\.X", "local", "every flow module, with --help", stage=1),
    Rule(r"python -m flows\.futures_instruments", "local", "", stage=2),
    Rule(
        r"python -m flows\.futures_ohlcv .*",
        "local",
        "with API_SHARED_BUDGET_URL on the local Redis (the fan-out commands)",
        stage=3,
    ),
    Rule(r"python -m ingestion_core\.db\.(coverage|runs)\b.*", "local", "", stage=4),
    Rule(
        r"python -m ingestion_core\.db\.compare",
        "exempt",
        "needs the legacy tables and the shadow schema side by side on a MySQL server: "
        "tests/integration/flows/test_shadow_run.py runs it so (--legacy-schema naming its legacy copy)",
    ),
    Rule(
        r"make server|python -m deployments\.local_server .*",
        "local",
        "make server, then status and stop, in a scratch PREFECT_HOME",
        stage=6,
    ),
    # Server: the e2e stack (its deployments; destructive commands on a scratch deployment the test creates).
    Rule(r"make deploy( DEPLOY_ARGS=--dry-run)?|python -m deployments\.deploy", "server", "a redeploy: all unchanged"),
    Rule(
        r"prefect deployment (schedule (ls|delete|clear|pause|resume)|delete) <flow>/<deployment>.*",
        "server",
        "on a scratch deployment with one schedule, created by the test",
    ),
    Rule(r"prefect deployment ls|prefect automation ls|prefect work-pool inspect ccdata-ingest", "server"),
    Rule(r"prefect automation pause 'ccdata-ingest: stale <series>'", "server", "then resumed by the test"),
    Rule(r"prefect work-pool set-concurrency-limit ccdata-ingest 2", "server", "then set back by the test"),
    Rule(
        r"prefect deployment run 'futures-ohlcv/futures-ohlcv-1m' .*",
        "server",
        "the run it creates is then cancelled with the next command",
    ),
    Rule(r"prefect flow-run cancel <flow-run-id>", "server", "cancels the run the command above created"),
)


def rule_for(command: str) -> Rule:
    """The one rule covering ``command``.

    Raises:
        LookupError: no rule, or more than one, matches (the message names them).
    """
    found = [rule for rule in RULES if re.fullmatch(rule.pattern, command)]
    if len(found) != 1:
        raise LookupError(f"{command!r}: {len(found)} rules match {[r.pattern for r in found]}")
    return found[0]


#: What a placeholder becomes when a command runs.
PLACEHOLDERS: Mapping[str, str] = {
    "T": "market.cc_futures_ohlcv_1h",
    "M": "binance",
    "D": "futures_ohlcv",
    "N": "5",
}


def concrete(command: str, values: Mapping[str, str] = PLACEHOLDERS) -> list[list[str]]:
    """The argument lists to run for ``command``: optional groups without and with, alternatives one by one."""
    variants = [command]
    if "[" in command:
        variants = [re.sub(r"\s*\[[^\]]*\]", "", command), re.sub(r"\[([^\]]*)\]", r"\1", command)]
    out: list[list[str]] = []
    for variant in variants:
        argv = shlex.split(variant)
        alternatives = [argv]
        for index, word in enumerate(argv):
            if "|" in word and not word.startswith("-"):
                alternatives = [[*argv[:index], choice, *argv[index + 1 :]] for choice in word.split("|")]
                break
        for one in alternatives:
            out.append([values.get(word, word) for word in one])
    return out
