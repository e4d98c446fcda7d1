"""Assets from ``/asset/v1/top/list`` (every page) -> ``cc_assets``, six map tables and ``cc_asset_market_data``.

Field maps per field-mapping §5. Defects fixed:

* A-1, pages drift under a rank sort: an asset can move across a page boundary between two page requests and be
  skipped or seen twice. The run keeps each asset ID once (the copy from the latest page wins) and, when it holds
  fewer distinct IDs than ``TOTAL_ASSETS`` after the last page, reads every page again (at most
  :data:`MAX_PASSES` passes) and takes the union. A set still short after that, or a page that failed, is written
  (it is valid data) but reported as incomplete, and no asset missing from it is called removed.
* A-2, map tables reflect the API: a mapping the API no longer lists for an asset it did list keeps its row and is
  reported as removed (event and artifact); rows are never deleted.
* A-3: ``cc_asset_market_data`` is keyed (asset_id, snapshot_ts); an unchanged snapshot updates its row instead
  of adding one. An asset without ``PRICE_USD_LAST_UPDATE_TS`` has no snapshot time: its market data row is
  quarantined, not stored with the zero date.
* X-3: every column is typed by its table; a sparse field (``PUBLIC_NOTICE``) cannot lose the insert.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from ingestion_core.api.catalog import TOP_LIST_MAX_PAGES, top_list_page
from ingestion_core.db.tables import TableSpec
from ingestion_core.db.tables.assets import (
    ASSET_ALTERNATIVE_IDS,
    ASSET_CONSENSUS_ALGORITHM_TYPES_MAP,
    ASSET_CONSENSUS_MECHANISMS_MAP,
    ASSET_HASHING_ALGORITHM_TYPES_MAP,
    ASSET_INDUSTRIES_MAP,
    ASSET_MARKET_DATA,
    ASSET_METADATA_TABLES,
    ASSET_PREVIOUS_SYMBOLS_MAP,
    ASSETS,
)
from ingestion_core.epochs import naive_utc_second
from ingestion_core.errors import IngestError
from ingestion_core.quarantine import QuarantineRecord
from ingestion_core.snapshots.convert import Converter, unkeyable
from ingestion_core.snapshots.spec import Fetched, Parsed, SnapshotSpec, Tracked

if TYPE_CHECKING:
    from ingestion_core.api.client import CcdataClient

DATASET = "asset_metadata"
GROUPS = ("ID", "BASIC", "CLASSIFICATION", "DESCRIPTION_SUMMARY", "PRICE", "MKT_CAP", "VOLUME")
MAX_PASSES = 3
ALTERNATIVE_ID_COLUMNS = ("cmc_id", "cg_id", "isin_id", "valor_id", "dti_id", "chain_id")


class AssetsParameters(BaseModel):
    """How the asset list is read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    page_size: int = Field(100, ge=10, le=100, description="Assets per top-list page (the API allows 10 to 100).")


ASSET_FIELDS: dict[str, tuple[str, ...]] = {
    "symbol": ("SYMBOL",),
    "name": ("NAME",),
    "uri": ("URI",),
    "asset_type": ("ASSET_TYPE",),
    "cc_internal_type": ("TYPE",),
    "id_legacy": ("ID_LEGACY",),
    "id_parent_asset": ("ID_PARENT_ASSET",),
    "id_asset_issuer": ("ID_ASSET_ISSUER",),
    "asset_issuer_name": ("ASSET_ISSUER_NAME",),
    "parent_asset_symbol": ("PARENT_ASSET_SYMBOL",),
    "cc_created_on": ("CREATED_ON",),
    "cc_updated_on": ("UPDATED_ON",),
    "public_notice": ("PUBLIC_NOTICE",),
    "logo_url": ("LOGO_URL",),
    "launch_date": ("LAUNCH_DATE",),
    "description_summary": ("ASSET_DESCRIPTION_SUMMARY",),
    "decimal_points": ("ASSET_DECIMAL_POINTS",),
    "symbol_glyph": ("ASSET_SYMBOL_GLYPH",),
}

MARKET_FIELDS: dict[str, tuple[str, ...]] = {
    "snapshot_ts": ("PRICE_USD_LAST_UPDATE_TS",),
    "price_usd": ("PRICE_USD",),
    "price_usd_source": ("PRICE_USD_SOURCE",),
    "mkt_cap_penalty": ("MKT_CAP_PENALTY",),
    "circulating_mkt_cap_usd": ("CIRCULATING_MKT_CAP_USD",),
    "total_mkt_cap_usd": ("TOTAL_MKT_CAP_USD",),
    **{
        f"spot_moving_{window}_quote_volume{tier}_usd": (
            f"SPOT_MOVING_{window.upper()}_QUOTE_VOLUME{tier.upper()}_USD",
        )
        for window in ("24_hour", "7_day", "30_day")
        for tier in ("_top_tier", "")
    },
}

# map table -> (list field, {column: field inside each element})
MAPS: dict[str, tuple[TableSpec, str, dict[str, str]]] = {
    "industries": (
        ASSET_INDUSTRIES_MAP,
        "ASSET_INDUSTRIES",
        {"industry_name": "ASSET_INDUSTRY", "justification": "JUSTIFICATION"},
    ),
    "mechanisms": (ASSET_CONSENSUS_MECHANISMS_MAP, "CONSENSUS_MECHANISMS", {"mechanism_name": "NAME"}),
    "algorithms": (
        ASSET_CONSENSUS_ALGORITHM_TYPES_MAP,
        "CONSENSUS_ALGORITHM_TYPES",
        {"algorithm_name": "NAME", "description": "DESCRIPTION"},
    ),
    "hashing": (ASSET_HASHING_ALGORITHM_TYPES_MAP, "HASHING_ALGORITHM_TYPES", {"algorithm_name": "NAME"}),
}


async def fetch(client: CcdataClient, parameters: BaseModel) -> Fetched:
    """Every page of the top list, repeated while the distinct IDs fall short of ``TOTAL_ASSETS`` (ranks moved)."""
    chosen = AssetsParameters.model_validate(parameters.model_dump())
    by_id: dict[int, dict[str, Any]] = {}
    failures: list[str] = []
    retriable = False
    total: int | None = None
    pages = passes = 0
    while passes < MAX_PASSES and not failures:
        passes += 1
        for page in range(1, TOP_LIST_MAX_PAGES + 1):
            try:
                answer = await top_list_page(client, page, page_size=chosen.page_size, groups=GROUPS)
            except IngestError as exc:
                failures.append(f"page {page}: {exc}")
                retriable = exc.retriable
                break
            pages += 1
            total = answer.total if answer.total is not None else total
            for item in answer.items:
                ident = item.get("ID") if isinstance(item, Mapping) else None
                if isinstance(ident, int) and not isinstance(ident, bool):
                    by_id[ident] = item  # a later page's copy is the fresher one
            if not answer.items or total is None or page * chosen.page_size >= total:
                break
        if total is None or len(by_id) >= total:
            break
    short = total is not None and len(by_id) < total
    if short and not failures:
        failures.append(f"the list holds {len(by_id)} distinct assets of {total} after {passes} passes")
    notes: dict[str, object] = {"pages": pages, "passes": passes, "total_assets": total, "distinct": len(by_id)}
    scopes = None if not failures else frozenset(str(i) for i in by_id)
    return Fetched(list(by_id.values()), failures=failures, scopes=scopes, notes=notes, retriable=retriable)


def parse(fetched: Fetched, parameters: BaseModel, retrieved_at: datetime) -> Parsed:
    """The eight tables' frames from the fetched assets."""
    import polars as pl

    from ingestion_core.db.tables import polars_schema

    stamp = naive_utc_second(retrieved_at)
    clock = {"created_at": stamp, "updated_at": stamp}
    flags: list[QuarantineRecord] = []
    rows: dict[str, list[dict[str, object]]] = {t.qualified_name: [] for t in ASSET_METADATA_TABLES}
    for item in fetched.data:
        asset_id = item["ID"]
        key = (str(asset_id),)
        convert = Converter(DATASET, ASSETS, key, item, flags)
        rows[ASSETS.qualified_name].append({"asset_id": asset_id, **convert.row(ASSET_FIELDS, item), **clock})
        market = Converter(DATASET, ASSET_MARKET_DATA, key, item, flags).row(MARKET_FIELDS, item)
        if market["snapshot_ts"] is None:
            flags.append(
                unkeyable(DATASET, (*key, "market_data"), "no PRICE_USD_LAST_UPDATE_TS: no snapshot time", item)
            )
        else:
            rows[ASSET_MARKET_DATA.qualified_name].append({"asset_id": asset_id, **market, **clock})
        rows[ASSET_ALTERNATIVE_IDS.qualified_name].append({"asset_id": asset_id, **_alternative_ids(item), **clock})
        for table, field, columns in MAPS.values():
            for element in _elements(item, field, table, key, flags):
                values = Converter(DATASET, table, key, element, flags).row(
                    {c: (f,) for c, f in columns.items()}, element
                )
                if values[table.primary_key[1]] is not None:
                    rows[table.qualified_name].append({"asset_id": asset_id, **values, **clock})
        for symbol in _previous_symbols(item, key, flags):
            rows[ASSET_PREVIOUS_SYMBOLS_MAP.qualified_name].append(
                {"asset_id": asset_id, "previous_symbol": symbol, **clock}
            )
    frames = {
        t.qualified_name: pl.DataFrame(rows[t.qualified_name], schema=polars_schema(t), orient="row")
        for t in ASSET_METADATA_TABLES
    }
    return Parsed(frames, flags)


def _elements(
    item: Mapping[str, Any], field: str, table: TableSpec, key: tuple[str, ...], flags: list[QuarantineRecord]
) -> list[Mapping[str, Any]]:
    listed = item.get(field)
    if listed is None:
        return []
    if not isinstance(listed, list):
        flags.append(unkeyable(DATASET, (*key, table.name), f"{field} is not a list", listed))
        return []
    bad = [e for e in listed if not isinstance(e, Mapping)]
    if bad:
        flags.append(unkeyable(DATASET, (*key, table.name), f"{field} holds entries that are not objects", bad))
    return [e for e in listed if isinstance(e, Mapping)]


def _alternative_ids(item: Mapping[str, Any]) -> dict[str, object]:
    """The six id columns from ``ASSET_ALTERNATIVE_IDS`` (``{NAME, ID}`` pairs); unknown names are not stored."""
    found: dict[str, object] = dict.fromkeys(ALTERNATIVE_ID_COLUMNS)
    listed = item.get("ASSET_ALTERNATIVE_IDS")
    for entry in listed if isinstance(listed, list) else []:
        if not isinstance(entry, Mapping) or not entry.get("NAME") or entry.get("ID") in (None, ""):
            continue
        column = f"{str(entry['NAME']).lower()}_id"
        if column in found:
            found[column] = str(entry["ID"])
    return found


def _previous_symbols(item: Mapping[str, Any], key: tuple[str, ...], flags: list[QuarantineRecord]) -> list[str]:
    """Previous symbols: an object's ``SYMBOL``, else its JSON; text as is; a number as its digits; null skipped."""
    listed = item.get("PREVIOUS_ASSET_SYMBOLS")
    if listed is None:
        return []
    if not isinstance(listed, list):
        flags.append(unkeyable(DATASET, (*key, "previous_symbols"), "PREVIOUS_ASSET_SYMBOLS is not a list", listed))
        return []
    out: list[str] = []
    for element in listed:
        if element is None:
            continue  # legacy stored the text "None"
        if isinstance(element, Mapping) and element.get("SYMBOL"):
            out.append(str(element["SYMBOL"]))
        elif isinstance(element, Mapping | list):
            out.append(json.dumps(element, ensure_ascii=False, separators=(", ", ": ")))
        else:
            out.append(str(element))
    return out


ASSET_METADATA = SnapshotSpec(
    name=DATASET,
    title="assets, their classification maps and market data (top list, every page)",
    tables=ASSET_METADATA_TABLES,
    parameters=AssetsParameters,
    fetch=fetch,
    parse=parse,
    tracked=(
        Tracked(ASSETS, "asset_id"),
        *(Tracked(table, "asset_id") for table, _, _ in MAPS.values()),
        Tracked(ASSET_PREVIOUS_SYMBOLS_MAP, "asset_id"),
    ),
    use_case="ingest_asset_data",
    upstream_of=("spot_ohlcv",),
)
