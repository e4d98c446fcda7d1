"""Write or check the checked-in DDL: ``python -m ingestion_core.db.ddl --write`` (``--check`` exits 1 on drift)."""

from __future__ import annotations

import argparse
import sys

from ingestion_core.db.schema_sql import checked_in_path, render_schema


def main(argv: list[str] | None = None) -> int:
    """Write or check the checked-in DDL files."""
    parser = argparse.ArgumentParser(prog="python -m ingestion_core.db.ddl", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite sql/<dialect>/market.sql")
    parser.add_argument("--check", action="store_true", help="exit 1 if a checked-in file differs")
    args = parser.parse_args(argv)
    drift = []
    for dialect in ("singlestore", "mysql"):
        path = checked_in_path(dialect)
        text = render_schema(dialect)
        if args.write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            drift.append(str(path))
        elif not args.check:
            print(text)
    if drift:
        print("out of date: " + ", ".join(drift) + "; run python -m ingestion_core.db.ddl --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
