"""Map every CCData asset to a coin of the coin registry and write ``market.cc_asset_coin_uid_map``.

The flow ``asset_coin_uid_map`` is loaded on first read, so ``--help`` imports no Prefect:

- body: ``flows/_coin_uid_map.py:asset_coin_uid_map`` (the ``@flow`` itself)

Replaces the legacy ``scripts/asset_to_coin_uid_mapper.py`` (cron ``scheduling/ingest_asset_coin_uid_map.sh``).
Deployed as ``asset-coin-uid-map-daily``, after ``asset-metadata-daily`` (``prefect.yaml``).
"""

from __future__ import annotations

import sys

from flows._registry import FlowSource

NAME = "asset_coin_uid_map"
FLOW = FlowSource(NAME, body="flows/_coin_uid_map.py:asset_coin_uid_map")
__getattr__ = FLOW.module_getattr


def main(argv: list[str] | None = None) -> int:
    """Parse, check the settings, run the flow; 0 when it completed, 1 when it failed, 2 on bad options."""
    from flows._cli import OneLineParser, checked
    from ingestion_core.coin_uid import CoinMapParameters, FuzzyRatio
    from ingestion_core.errors import IngestError
    from ingestion_core.settings import load_settings

    field = CoinMapParameters.model_fields["fuzzy_ratio"]
    parser = OneLineParser(prog=f"python -m flows.{NAME}", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fuzzy-ratio", type=checked(FuzzyRatio), default=field.default, help=field.description)
    args = parser.parse_args(argv)
    try:
        load_settings()  # a configuration error (COINS_TABLE...) is one line before Prefect starts
    except IngestError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return exc.exit_code
    from flows._coin_uid_map import asset_coin_uid_map

    state = asset_coin_uid_map(fuzzy_ratio=args.fuzzy_ratio, return_state=True)
    result = state.result(raise_on_failure=False)
    if state.is_completed() and hasattr(result, "headline"):
        print(result.headline())
        return 0
    print(f"error: {' '.join(str(state.message).split())}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
