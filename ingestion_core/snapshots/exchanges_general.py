"""Exchanges general info from the Min API ``/data/exchanges/general`` -> ``cc_exchanges_general``.

Field map per field-mapping §6. The envelope is ``{"Response": ..., "Data": {<exchange id>: {...}}}``; a body with
``Response: Error`` is an error (Type 99 a rate limit, retried; any other type fatal), never "no data" (E-3).
``item_types`` stays JSON; booleans are real booleans (E-2); ``Rating: null`` or ``GradePointsSplit: null`` give
NULL columns instead of aborting the run. The spot daily OHLCV selection reads the grades from this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from ingestion_core.db.tables.assets import EXCHANGES_GENERAL
from ingestion_core.epochs import naive_utc_second
from ingestion_core.errors import DataError
from ingestion_core.quarantine import QuarantineRecord
from ingestion_core.snapshots.convert import Converter, unkeyable, usable_key
from ingestion_core.snapshots.spec import Fetched, Parsed, SnapshotSpec, Tracked

if TYPE_CHECKING:
    from ingestion_core.api.client import CcdataClient

PATH = "/data/exchanges/general"
DATASET = "exchanges_general"


class ExchangesGeneralParameters(BaseModel):
    """The quote currency of the exchanges' 24 h volume."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tsym: str = Field(
        "USD", pattern=r"^[A-Z0-9]{2,10}$", description="Quote symbol of the 24 h volume (total_volume_24h_usd)."
    )


FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("Name",),
    "internal_name": ("InternalName",),
    "api_url_path": ("Url",),
    "logo_url_path": ("LogoUrl",),
    "item_types": ("ItemType",),
    "centralization_type": ("CentralizationType",),
    "grade_points": ("GradePoints",),
    "grade": ("Grade",),
    "grade_points_legal": ("GradePointsSplit", "Legal"),
    "grade_points_kyc_risk": ("GradePointsSplit", "KYCAndTransactionRisk"),
    "grade_points_team": ("GradePointsSplit", "Team"),
    "grade_points_data_provision": ("GradePointsSplit", "DataProvision"),
    "grade_points_asset_quality": ("GradePointsSplit", "AssetQualityAndDiversity"),
    "grade_points_market_quality": ("GradePointsSplit", "MarketQuality"),
    "grade_points_security": ("GradePointsSplit", "Security"),
    "grade_points_neg_reports_penalty": ("GradePointsSplit", "NegativeReportsPenalty"),
    "affiliate_url": ("AffiliateURL",),
    "country": ("Country",),
    "has_orderbook": ("OrderBook",),
    "has_trades": ("Trades",),
    "description": ("Description",),
    "full_address": ("FullAddress",),
    "is_sponsored": ("Sponsored",),
    "is_recommended": ("Recommended",),
    "rating_avg": ("Rating", "Avg"),
    "rating_total_users": ("Rating", "TotalUsers"),
    "sort_order": ("SortOrder",),
}


async def fetch(client: CcdataClient, parameters: BaseModel) -> Fetched:
    """One Min API call; an error body raises (it is an error, not an empty catalogue)."""
    chosen = ExchangesGeneralParameters.model_validate(parameters.model_dump())
    body = await client.min_api(PATH, {"tsym": chosen.tsym, "extraParams": "ccdata-ingest"})
    data = body.get("Data")
    if not isinstance(data, Mapping):
        raise DataError(f"{PATH}: 'Data' is not an object")
    return Fetched(dict(data))


def parse(fetched: Fetched, parameters: BaseModel, retrieved_at: datetime) -> Parsed:
    """One row per exchange id."""
    import polars as pl

    from ingestion_core.db.tables import polars_schema

    tsym = ExchangesGeneralParameters.model_validate(parameters.model_dump()).tsym
    stamp = naive_utc_second(retrieved_at)
    flags: list[QuarantineRecord] = []
    rows: list[dict[str, object]] = []
    for exchange_id, entry in fetched.data.items():
        key = usable_key(exchange_id)
        if key is None or not isinstance(entry, Mapping):
            flags.append(unkeyable(DATASET, (str(exchange_id),), "exchange entry is not an object", entry))
            continue
        convert = Converter(DATASET, EXCHANGES_GENERAL, (key,), entry, flags)
        row = {"exchange_api_id": key, **convert.row(FIELDS, entry)}
        row["total_volume_24h_usd"] = convert.convert("total_volume_24h_usd", _volume(entry, tsym))
        rows.append({**row, "created_at": stamp, "updated_at": stamp})
    frame = pl.DataFrame(rows, schema=polars_schema(EXCHANGES_GENERAL), orient="row")
    return Parsed({EXCHANGES_GENERAL.qualified_name: frame}, flags)


def _volume(entry: Mapping[str, object], tsym: str) -> object:
    volumes = entry.get("TOTALVOLUME24H")
    return volumes.get(tsym) if isinstance(volumes, Mapping) else None


EXCHANGES_GENERAL_SNAPSHOT = SnapshotSpec(
    name=DATASET,
    title="exchanges general info and grades (Min API)",
    tables=(EXCHANGES_GENERAL,),
    parameters=ExchangesGeneralParameters,
    fetch=fetch,
    parse=parse,
    tracked=(Tracked(EXCHANGES_GENERAL),),
    use_case="ingest_exchanges_general_data",
    upstream_of=("spot_ohlcv",),
    apis=("min",),
)
