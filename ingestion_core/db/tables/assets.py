"""Asset and exchange reference tables and the rate-limit log."""

from __future__ import annotations

from ingestion_core.db.tables.columns import WALL_CLOCK, join_columns, parse_columns
from ingestion_core.db.tables.spec import ShadowRules, TableSpec


def _reference(
    name: str,
    body: str,
    key: tuple[str, ...],
    shard: tuple[str, ...],
    sort: tuple[str, ...],
    shadow: ShadowRules | None = None,
) -> TableSpec:
    return TableSpec(
        schema="market",
        name=name,
        columns=join_columns(parse_columns(body), WALL_CLOCK),
        primary_key=key,
        shard_key=shard,
        sort_key=sort,
        refresh_columns=("updated_at",),
        shadow=shadow or ShadowRules(),
    )


def _asset_map(name: str, item: str, detail: str = "") -> TableSpec:
    """One of an asset's lists as a table: a row per (asset, ``item``), sharded by the asset.

    Args:
        name: the table name.
        item: the list element's name column (``industry_name``), part of the key.
        detail: a further column of the element, in the contract's notation (``justification TEXT``).
    """
    body = f"asset_id BIGINT !\n{item} VARCHAR(255) !\n{detail}"
    return _reference(name, body, key=("asset_id", item), shard=("asset_id",), sort=("asset_id", item))


ASSETS = _reference(
    "cc_assets",
    """
    asset_id BIGINT !
    symbol VARCHAR(255) !
    name VARCHAR(255) !
    uri VARCHAR(255) !
    asset_type VARCHAR(255) !
    cc_internal_type VARCHAR(255) !
    id_legacy BIGINT !
    id_parent_asset BIGINT
    id_asset_issuer BIGINT
    asset_issuer_name VARCHAR(255)
    parent_asset_symbol VARCHAR(255)
    cc_created_on DATETIME !
    cc_updated_on DATETIME !
    public_notice TEXT
    logo_url VARCHAR(255)
    launch_date DATETIME
    description_summary TEXT
    decimal_points INT
    symbol_glyph VARCHAR(255)
    """,
    key=("asset_id",),
    shard=("asset_id",),
    sort=("symbol", "asset_id"),
    # CCData's own last-edit time of the asset: two runs minutes apart (the legacy and the shadow) can straddle an
    # edit, so a difference there is drift, not a defect.
    shadow=ShadowRules(drift=("cc_updated_on",)),
)

ASSET_ALTERNATIVE_IDS = _reference(
    "cc_asset_alternative_ids",
    """
    asset_id BIGINT !
    cmc_id VARCHAR(255)
    cg_id VARCHAR(255)
    isin_id VARCHAR(255)
    valor_id VARCHAR(255)
    dti_id VARCHAR(255)
    chain_id VARCHAR(255)
    """,
    key=("asset_id",),
    shard=("asset_id",),
    sort=("asset_id",),
)

ASSET_INDUSTRIES_MAP = _asset_map("cc_asset_industries_map", "industry_name", "justification TEXT")
ASSET_CONSENSUS_MECHANISMS_MAP = _asset_map("cc_asset_consensus_mechanisms_map", "mechanism_name")
ASSET_CONSENSUS_ALGORITHM_TYPES_MAP = _asset_map(
    "cc_asset_consensus_algorithm_types_map", "algorithm_name", "description TEXT"
)
ASSET_HASHING_ALGORITHM_TYPES_MAP = _asset_map("cc_asset_hashing_algorithm_types_map", "algorithm_name")
ASSET_PREVIOUS_SYMBOLS_MAP = _asset_map("cc_asset_previous_symbols_map", "previous_symbol")

ASSET_MARKET_DATA = TableSpec(
    schema="market",
    name="cc_asset_market_data",
    columns=join_columns(
        parse_columns(
            """
            asset_id BIGINT !
            snapshot_ts DATETIME !
            price_usd DOUBLE
            price_usd_source VARCHAR(255)
            mkt_cap_penalty DOUBLE
            circulating_mkt_cap_usd DOUBLE
            total_mkt_cap_usd DOUBLE
            spot_moving_24_hour_quote_volume_top_tier_usd DOUBLE
            spot_moving_24_hour_quote_volume_usd DOUBLE
            spot_moving_7_day_quote_volume_top_tier_usd DOUBLE
            spot_moving_7_day_quote_volume_usd DOUBLE
            spot_moving_30_day_quote_volume_top_tier_usd DOUBLE
            spot_moving_30_day_quote_volume_usd DOUBLE
            """
        ),
        WALL_CLOCK,
    ),
    primary_key=("asset_id", "snapshot_ts"),
    shard_key=("asset_id",),
    sort_key=("asset_id", "snapshot_ts DESC"),
    time_column="snapshot_ts",
    entity_columns=("asset_id",),
    refresh_columns=("updated_at",),
    # A history of market snapshots, one per run: the legacy and the shadow run never snapshot the same second. Each
    # side's newest snapshot per asset is compared; the market figures move between two snapshots.
    shadow=ShadowRules(
        newest_per=("asset_id",),
        drift=(
            "snapshot_ts",
            "price_usd",
            "mkt_cap_penalty",
            "circulating_mkt_cap_usd",
            "total_mkt_cap_usd",
            "spot_moving_24_hour_quote_volume_top_tier_usd",
            "spot_moving_24_hour_quote_volume_usd",
            "spot_moving_7_day_quote_volume_top_tier_usd",
            "spot_moving_7_day_quote_volume_usd",
            "spot_moving_30_day_quote_volume_top_tier_usd",
            "spot_moving_30_day_quote_volume_usd",
        ),
    ),
)

# Two unique keys (exchange_api_id, internal_name) share no column, so no shard key can be contained in both:
# on SingleStore this small table is a REFERENCE table (replicated, unsharded), where any unique key is allowed.
EXCHANGES_GENERAL = TableSpec(
    schema="market",
    name="cc_exchanges_general",
    columns=join_columns(
        parse_columns(
            """
            exchange_api_id VARCHAR(255) !
            name VARCHAR(255) !
            internal_name VARCHAR(255) !
            api_url_path VARCHAR(255)
            logo_url_path VARCHAR(255)
            item_types JSON
            centralization_type VARCHAR(255)
            grade_points DOUBLE
            grade VARCHAR(255)
            grade_points_legal DOUBLE
            grade_points_kyc_risk DOUBLE
            grade_points_team DOUBLE
            grade_points_data_provision DOUBLE
            grade_points_asset_quality DOUBLE
            grade_points_market_quality DOUBLE
            grade_points_security DOUBLE
            grade_points_neg_reports_penalty DOUBLE
            affiliate_url VARCHAR(255)
            country VARCHAR(255)
            has_orderbook BOOLEAN
            has_trades BOOLEAN
            description TEXT
            full_address VARCHAR(255)
            is_sponsored BOOLEAN
            is_recommended BOOLEAN
            rating_avg DOUBLE
            rating_total_users INT
            sort_order INT
            total_volume_24h_usd DOUBLE
            created_at DATETIME ! DEFAULT CURRENT_TIMESTAMP
            updated_at DATETIME ! DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
            """
        ),
    ),
    primary_key=("exchange_api_id",),
    unique_keys=(("internal_name",),),
    sort_key=("internal_name", "name"),
    reference=True,
    refresh_columns=("updated_at",),
)

RATE_LIMIT_STATUS = TableSpec(
    schema="market",
    name="cc_rate_limit_status",
    columns=parse_columns(
        "timestamp DATETIME !\nuse_case VARCHAR(255) !\nrecord_timing VARCHAR(10) !\n"
        + "\n".join(
            f"{who}_key_{what}_{period} INT"
            for who in ("api", "auth")
            for what in ("used", "max", "remaining")
            for period in ("second", "minute", "hour", "day", "month")
        )
    ),
    primary_key=("timestamp", "use_case", "record_timing"),
    shard_key=("timestamp",),
    sort_key=("timestamp", "use_case"),
    time_column="timestamp",
    entity_columns=("use_case",),
    refresh_columns=(),
    insert_only_columns=(),
    # Each row is stamped with the wall-clock time its run wrote it: two systems' rows never share a key. Compared
    # as the number of records per day, use case and pre/post instead.
    shadow=ShadowRules(counts_by=("use_case", "record_timing")),
)

#: Each asset's coin in another system's coin registry (``production.coins``), found by the ``asset_coin_uid_map``
#: flow: one row per matched asset, replaced on every run (the legacy mapper's table; keyed by asset_id).
ASSET_COIN_UID_MAP = TableSpec(
    schema="market",
    name="cc_asset_coin_uid_map",
    columns=parse_columns(
        """
        asset_id BIGINT !
        symbol VARCHAR(255) !
        coin_uid VARCHAR(256) !
        match_type VARCHAR(32) !
        match_score DOUBLE !
        mapped_at DATETIME ! DEFAULT CURRENT_TIMESTAMP
        """
    ),
    primary_key=("asset_id",),
    shard_key=("asset_id",),
    sort_key=("asset_id",),
    refresh_columns=("mapped_at",),
    insert_only_columns=(),
    # mapped_at is the run's clock: two systems never share it (a wall-clock column for the comparison).
)

#: What the top list says about the assets: the tables the asset metadata snapshot writes, in its order.
ASSET_METADATA_TABLES: tuple[TableSpec, ...] = (
    ASSETS,
    ASSET_ALTERNATIVE_IDS,
    ASSET_INDUSTRIES_MAP,
    ASSET_CONSENSUS_MECHANISMS_MAP,
    ASSET_CONSENSUS_ALGORITHM_TYPES_MAP,
    ASSET_HASHING_ALGORITHM_TYPES_MAP,
    ASSET_PREVIOUS_SYMBOLS_MAP,
    ASSET_MARKET_DATA,
)

ASSET_TABLES: tuple[TableSpec, ...] = (*ASSET_METADATA_TABLES, EXCHANGES_GENERAL, RATE_LIMIT_STATUS, ASSET_COIN_UID_MAP)
