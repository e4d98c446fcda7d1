"""Writing one benchmark's results: the JSON file and its section of bench/RESULTS.md, with provenance."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def provenance(result: dict[str, Any]) -> str:
    """``measured <when> at commit <sha>[, with uncommitted code changes]`` for a section's first line."""
    dirty = ", with uncommitted code changes" if result["code"]["uncommitted_code_changes"] else ""
    return f"measured {result['measured_at']} at commit {result['code']['head'][:7]}{dirty}"


def publish(
    result: dict[str, Any],
    *,
    json_path: Path,
    heading: str,
    render: Callable[[dict[str, Any], str], str],
    no_write: bool,
) -> None:
    """Stamp ``result`` with time and commit, then print it (``no_write``) or write the JSON and the section."""
    from bench.flows import git_state, write_section

    result.update(measured_at=datetime.now(UTC).isoformat(timespec="seconds"), code=git_state())
    if no_write:
        print(json.dumps(result, indent=2))
        return
    json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    module = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else "bench"
    section = render(result, " ".join(["python -m bench." + module, *sys.argv[1:]]))
    write_section(section.rstrip(), heading)
    print(section)
