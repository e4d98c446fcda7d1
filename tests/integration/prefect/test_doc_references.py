"""References to the reference docs resolve, and the repository's docs and tooling point nowhere outside it.

Code and docs cite ``docs/ccdata-api.md §5.2``, ``docs/prefect-facts.md A2`` or ``field-mapping F-2``; each cited
section, label or defect id must exist in that document.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
DOCS = {"ccdata-api": "ccdata-api.md", "field-mapping": "field-mapping.md", "prefect-facts": "prefect-facts.md"}
REFERENCE = re.compile(
    r"(ccdata-api|field-mapping|prefect-facts)(?:\.md)?((?:(?:,| and|;)? ?(?:§ ?[0-9]+(?:\.[0-9]+)*|\bA[0-9]+\b|"
    r"\b[A-Z]{1,2}-[0-9]+\b))+)"
)
PART = re.compile(r"§ ?([0-9]+(?:\.[0-9]+)*)|\b(A[0-9]+)\b|\b([A-Z]{1,2}-[0-9]+)\b")
#: A path that leaves the repository: a relative one climbing out of it, a machine's home or work directory, or the
#: design documents that live beside the repository, not in it.
OUTSIDE = re.compile(r"(?:^|[^\w.])\.\./\w|/(?:work|home|root)/\w|\b(?:DESIGN|CONVENTIONS)\.md\b")


def _files() -> list[Path]:
    skip = {".venv", ".git", ".mypy_cache", ".ruff_cache", ".hypothesis", ".pytest_cache", "data"}
    return [
        p
        for p in ROOT.rglob("*")
        if p.is_file()
        and p.suffix in {".py", ".md", ".yaml", ".yml", ".service", ".toml"}
        and not skip & set(p.relative_to(ROOT).parts)
    ]


def _labels(document: str) -> set[str]:
    text = (ROOT / "docs" / document).read_text(encoding="utf-8")
    labels: set[str] = set()
    for heading in re.findall(r"^#{2,4} (.+)$", text, flags=re.M):
        match = re.match(r"([0-9]+(?:\.[0-9]+)*|A[0-9]+|[A-Z])\.? ", heading)
        if match:
            labels.add(match.group(1))
    labels |= set(re.findall(r"\*\*([A-Z]{1,2}-[0-9]+)\.", text))  # defect ids: **F-1. ...**
    return labels


def _references() -> list[tuple[str, str, str]]:
    found = []
    for path in _files():
        rel = str(path.relative_to(ROOT))
        if rel.startswith("docs/") and path.name in DOCS.values():
            continue  # a document's own cross-references are prose, checked by reading
        for match in REFERENCE.finditer(path.read_text(encoding="utf-8", errors="replace")):
            for part in PART.finditer(match.group(2)):
                label = next(g for g in part.groups() if g)
                found.append((rel, DOCS[match.group(1)], label))
    return found


REFERENCES = _references()


def test_there_are_references_to_check() -> None:
    assert len(REFERENCES) > 30
    assert {doc for _, doc, _ in REFERENCES} == set(DOCS.values())


@pytest.mark.parametrize(("source", "document", "label"), REFERENCES, ids=[f"{s}->{d} {x}" for s, d, x in REFERENCES])
def test_reference_resolves(source: str, document: str, label: str) -> None:
    labels = _labels(document)
    top = label.split(".")[0]
    assert label in labels or (label[0].isdigit() and top in labels and "." not in label), (
        f"{source} cites docs/{document} {label}, which has no such section or defect id"
    )


def test_the_repository_points_nowhere_outside_itself() -> None:
    offenders = []
    for path in _files():
        rel = str(path.relative_to(ROOT))
        if path.resolve() == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()[:100]}")
    assert not offenders, "\n".join(offenders)


def test_cited_documents_exist() -> None:
    missing = []
    for path in _files():
        rel = str(path.relative_to(ROOT))
        for name in re.findall(r"\bdocs/([a-z0-9-]+\.md)\b", path.read_text(encoding="utf-8", errors="replace")):
            if not (ROOT / "docs" / name).is_file():
                missing.append(f"{rel}: docs/{name}")
    assert not missing, "\n".join(sorted(set(missing)))
