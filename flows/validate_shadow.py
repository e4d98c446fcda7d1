"""Validate a shadow run: compare every legacy table with the shadow schema and publish the report.

The flow ``validate_shadow`` is loaded on first read, so ``--help`` imports no Prefect:

- body: ``flows/_shadow.py:validate_shadow`` (the ``@flow`` itself)

Deployed paused as ``validate-shadow-daily`` (docs/migration.md). ``python -m ingestion_core.db.compare`` prints the
same report without Prefect and takes more options.
"""

from __future__ import annotations

import argparse

from flows._registry import FlowSource
from ingestion_core.shadow.parameters import Days, LegacySchema, Tolerance

NAME = "validate_shadow"
FLOW = FlowSource(NAME, body="flows/_shadow.py:validate_shadow")
__getattr__ = FLOW.module_getattr


def parser() -> argparse.ArgumentParser:
    """The command line (the flow's parameters), built without importing Prefect."""
    from flows._cli import OneLineParser, checked

    p = OneLineParser(prog="python -m flows.validate_shadow", description=__doc__.split("\n\n")[0])
    p.add_argument("--legacy-schema", type=checked(LegacySchema), default="market", help="schema of the legacy tables")
    p.add_argument("--days", type=checked(Days), default=2, help="closed UTC days compared in the time series")
    p.add_argument("--tables", nargs="+", default=None, help="tables to compare, as market.name (default: all)")
    p.add_argument("--tolerance", type=checked(Tolerance), default=1e-9, help="relative tolerance of float columns")
    return p


def main(argv: list[str] | None = None) -> int:
    """Parse, run the flow, return 0 when the shadow matches (1 when anything is unexpected, 2 on bad options)."""
    args = vars(parser().parse_args(argv))
    from flows._shadow import validate_shadow

    return 0 if validate_shadow(**args, return_state=True).is_completed() else 1


if __name__ == "__main__":
    raise SystemExit(main())
