"""Every command the runbook and the README tell an operator to type exists in the pinned Prefect and in this repo.

``prefect ...`` lines are parsed by Prefect's own command-line app (the pinned 3.9.1; ``prefect worker ls``, for
example, does not exist there); ``python -m X`` modules must be importable and ``make X`` targets must exist.
"""

from __future__ import annotations

import importlib.util
import re
import shlex

import pytest

from tests.documented_commands import ROOT, documented

pytestmark = pytest.mark.unit

UNIT_FILE = ROOT / "deployments" / "ccdata-ingest-worker.service"
SESSION_FLAGS = {"--no-prompt", "--prompt"}
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"


def _commands(program: str) -> list[tuple[str, str]]:
    """Every ``program ...`` in the documented commands (tests/documented_commands.py) and in the worker unit."""
    found: list[tuple[str, str]] = []
    pattern = re.compile(rf"(?:^|[\s;&(|=]|\.venv/bin/){re.escape(program)} ([^#`|;&)]+)")
    lines = [(c.docs[0], c.text) for c in documented()]
    lines += [(UNIT_FILE.name, line) for line in UNIT_FILE.read_text(encoding="utf-8").splitlines()]
    for document, line in lines:
        for match in pattern.finditer(line):
            found.append((document, match.group(1).strip()))
    return found


def _tokens(command: str) -> list[str]:
    tokens = shlex.split(command)
    out: list[str] = []
    for token in tokens:
        if token in SESSION_FLAGS:
            continue
        if re.fullmatch(r"<[^>]+>", token):
            out.append(PLACEHOLDER_ID if "id" in token else "x")
        elif re.search(r"<[^>]+>", token):
            out.append(re.sub(r"<[^>]+>", "x", token))
        else:
            out.append(token)
    return out


PREFECT = _commands("prefect")
MODULES = [(doc, cmd) for doc, cmd in _commands("python") if cmd.startswith("-m ")]
MAKE = _commands("make")


def test_the_documents_name_commands() -> None:
    assert len(PREFECT) >= 10
    assert any(cmd.startswith("-m deployments.worker") for _, cmd in MODULES)
    assert any(cmd.startswith("deploy") for _, cmd in MAKE)


@pytest.mark.parametrize(("document", "command"), PREFECT, ids=[f"{d}: prefect {c}" for d, c in PREFECT])
def test_prefect_command_exists_in_the_pinned_version(document: str, command: str) -> None:
    from prefect.cli._app import _app

    tokens = _tokens(command)
    try:
        _app.parse_args(tokens, exit_on_error=False, print_error=False)
    except Exception as exc:
        pytest.fail(f"{document}: `prefect {command}` is not a Prefect 3.9.1 command: {type(exc).__name__}: {exc}")


def test_the_stock_worker_listing_command_really_is_missing() -> None:
    """The runbook once said `prefect worker ls`; the check above must be able to tell."""
    from prefect.cli._app import _app

    with pytest.raises(Exception, match="Unknown command"):
        _app.parse_args(["worker", "ls"], exit_on_error=False, print_error=False)


@pytest.mark.parametrize(("document", "command"), MODULES, ids=[f"{d}: python {c}" for d, c in MODULES])
def test_python_module_exists(document: str, command: str) -> None:
    module = shlex.split(command)[1]
    if re.fullmatch(r".*\.[A-Z]", module):  # a placeholder such as flows.X: its package must exist
        module = module.rsplit(".", 1)[0]
    assert importlib.util.find_spec(module) is not None, f"{document}: no module {module}"


@pytest.mark.parametrize(("document", "command"), MAKE, ids=[f"{d}: make {c}" for d, c in MAKE])
def test_make_target_exists(document: str, command: str) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, flags=re.M))
    for token in shlex.split(command):
        if "=" in token or token.startswith("-"):
            continue
        if not re.fullmatch(r"[a-z][a-z0-9-]*", token):
            break  # prose after the command
        assert token in targets, f"{document}: no make target {token!r}"
