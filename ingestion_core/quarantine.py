"""Records that failed parsing or quality rules, kept with the reason and the raw payload.

Bad records never sink good ones (an invariant, docs/architecture.md): a parser returns the good rows as a frame
and the bad ones as :class:`QuarantineRecord` values, which the warehouse stores in the quarantine table keyed by
(dataset, record_key), keeping the first time a record was seen and refreshing the last.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingestion_core.db.results import RejectedRow


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
        """Build a record from key parts and the raw mapping (serialised as sorted JSON, ASCII-escaped).

        Text the database could not store (a lone surrogate, from a JSON escape such as backslash-u D800) is
        written with backslash escapes, so the quarantine row itself always stores.
        """
        return cls(
            dataset=dataset,
            record_key=storable_text("|".join(str(p) for p in key_parts)),
            reason=storable_text(reason),
            raw_payload=json.dumps(raw, sort_keys=True, default=str),
        )


def storable_text(text: str) -> str:
    """``text`` with anything UTF-8 cannot encode (lone surrogates) as backslash escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def rejected_record(dataset: str, row: RejectedRow) -> QuarantineRecord:
    """The quarantine record of a row the table refused (its key, the column and rule, the row's values)."""
    return QuarantineRecord.of(dataset, row.key, row.reason, row.row)
