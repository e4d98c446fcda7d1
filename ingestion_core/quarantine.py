"""Records that failed parsing or quality rules, kept with the reason and the raw payload.

Bad records never sink good ones (design §3.6): a parser returns the good rows as a frame and the bad ones as
:class:`QuarantineRecord` values, which the warehouse stores in the quarantine table keyed by (dataset, record_key),
keeping the first time a record was seen and refreshing the last.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """One rejected record.

    Attributes:
        dataset: dataset name, e.g. ``futures_ohlcv_1h``.
        record_key: the record's natural key rendered as text, e.g. ``binance|BTC-USDT-VANILLA-PERPETUAL|1700000000``.
        reason: why it was rejected, short and specific (``high < low``).
        raw_payload: the record as received, JSON text.
    """

    dataset: str
    record_key: str
    reason: str
    raw_payload: str

    @classmethod
    def of(cls, dataset: str, key_parts: tuple[object, ...], reason: str, raw: Mapping[str, Any]) -> QuarantineRecord:
        """Build a record from key parts and the raw mapping (serialised as sorted JSON)."""
        return cls(
            dataset=dataset,
            record_key="|".join(str(p) for p in key_parts),
            reason=reason,
            raw_payload=json.dumps(raw, sort_keys=True, default=str),
        )
