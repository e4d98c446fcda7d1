"""What the three futures history datasets share: their identity fields and echo checks.

Every ``/futures/v1/historical/*`` record carries the instrument's identity (field-mapping §2.4); the table keeps
``INSTRUMENT`` (exchange-native), the type code and the mapping fields, while ``market`` and ``mapped_instrument``
are written from the request (F-6).
"""

from __future__ import annotations

from ingestion_core.datasets.layout import Field

IDENTITY: tuple[Field, ...] = (
    Field("instrument", "INSTRUMENT", "name", required=True),
    Field("type", "TYPE", "text"),
    Field("index_underlying", "INDEX_UNDERLYING", "name"),
    Field("quote_currency", "QUOTE_CURRENCY", "name"),
    Field("settlement_currency", "SETTLEMENT_CURRENCY", "name"),
    Field("contract_currency", "CONTRACT_CURRENCY", "name"),
    Field("denomination_type", "DENOMINATION_TYPE", "text"),
)

ECHO: tuple[tuple[str, str], ...] = (("MARKET", "market"), ("MAPPED_INSTRUMENT", "mapped_instrument"))
