"""Map every CCData asset to a coin of the coin registry and write ``market.cc_asset_coin_uid_map``.

Replaces the legacy ``scripts/asset_to_coin_uid_mapper.py`` (cron ``scheduling/ingest_asset_coin_uid_map.sh``). The
flow itself lives in ``flows/_coin_uid_map.py`` and is loaded when first read, so ``--help`` answers without
importing Prefect. Deployed as ``asset-coin-uid-map-daily``, after ``asset-metadata-daily`` (``prefect.yaml``).
"""

from __future__ import annotations

import sys
from typing import Any

NAME = "asset_coin_uid_map"


def __getattr__(attribute: str) -> Any:
    if attribute != NAME:
        raise AttributeError(f"flow module {NAME!r} has no attribute {attribute!r}")
    from flows._coin_uid_map import asset_coin_uid_map

    return asset_coin_uid_map


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
