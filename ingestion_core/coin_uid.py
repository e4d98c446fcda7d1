"""Match CCData assets to the coins of another system's registry (``production.coins``), as the legacy mapper did.

The matching, and the ``asset_coin_uid_map`` run's parameters and outcome (the run's reads and writes are
``pipeline.coin_uid_map``). Pure: assets (id, symbol, name, CoinGecko and CoinMarketCap ids) and coins (uid, ticker,
name, the same two ids) in, one :class:`Match` per asset out. The legacy script's match order is kept, first hit wins:

===================  ==========================================================  ==============
match_type           rule                                                        match_score
===================  ==========================================================  ==============
``coingecko_id``     the asset's CoinGecko id equals a coin's                    1.0
``coinmarketcap_id`` the asset's CoinMarketCap id equals a coin's                1.0
``symbol``           the asset's symbol equals a coin's ticker (exact case)     1.0
``name``             the names are equal once lower-cased without `` -_``        1.0
``fuzzy_name``       the most similar name (``difflib`` ratio) reaches the bar   the ratio
``unmatched``        none of the above                                           best ratio
===================  ==========================================================  ==============

Unlike the legacy script, a tie is seen: when two coins fit one rule (two coins with one ticker, one CoinGecko id
listed twice, two names equally similar), the match is **ambiguous**: the coin with the smallest uid is chosen (the
legacy kept whichever came last from an unordered query) and every candidate is reported.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

#: The legacy mapper's bar for a fuzzy name match.
FUZZY_RATIO = 0.85
MATCH_TYPES = ("coingecko_id", "coinmarketcap_id", "symbol", "name", "fuzzy_name", "unmatched")


@dataclass(frozen=True, slots=True)
class Asset:
    """One CCData asset with its external ids (``cc_assets`` + ``cc_asset_alternative_ids``)."""

    asset_id: int
    symbol: str
    name: str | None = None
    coingecko_id: str | None = None
    coinmarketcap_id: str | None = None


@dataclass(frozen=True, slots=True)
class Coin:
    """One coin of the registry."""

    coin_uid: str
    ticker: str | None = None
    name: str | None = None
    coingecko_id: str | None = None
    coinmarketcap_id: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """What an asset matched.

    Attributes:
        asset: the asset.
        coin_uid: the chosen coin, None when unmatched.
        match_type: the rule that matched (``MATCH_TYPES``).
        match_score: 1.0 for an exact rule, the name similarity for ``fuzzy_name`` and ``unmatched``.
        candidates: every coin the rule fitted, when more than one (an ambiguous match).
    """

    asset: Asset
    coin_uid: str | None
    match_type: str
    match_score: float
    candidates: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ambiguous(self) -> bool:
        """Whether more than one coin fitted the rule that matched."""
        return len(self.candidates) > 1


def normalize(text: str | None) -> str:
    """The legacy mapper's name key: lower case without spaces, dashes and underscores."""
    return text.lower().replace(" ", "").replace("-", "").replace("_", "") if text else ""


def _index(coins: Iterable[Coin], key: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for coin in coins:
        value = getattr(coin, key)
        value = normalize(value) if key == "name" else value
        if value:
            found.setdefault(value, []).append(coin.coin_uid)
    return found


def match_assets(assets: Sequence[Asset], coins: Sequence[Coin], *, fuzzy_ratio: float = FUZZY_RATIO) -> list[Match]:
    """Match every asset to at most one coin, in the legacy order of rules (see the module docstring).

    Args:
        assets: the assets to map.
        coins: the registry.
        fuzzy_ratio: the least name similarity a fuzzy match needs.

    Returns:
        One match per asset, in the assets' order.
    """
    exact = [
        ("coingecko_id", "coingecko_id", _index(coins, "coingecko_id")),
        ("coinmarketcap_id", "coinmarketcap_id", _index(coins, "coinmarketcap_id")),
        ("symbol", "symbol", _index(coins, "ticker")),
        ("name", "name", _index(coins, "name")),
    ]
    names = [(coin.coin_uid, normalize(coin.name)) for coin in coins if coin.name]
    out: list[Match] = []
    for asset in assets:
        found: Match | None = None
        for match_type, attribute, index in exact:
            value = getattr(asset, attribute)
            uids = index.get(normalize(value) if attribute == "name" else value) if value else None
            if uids:
                found = Match(asset, min(uids), match_type, 1.0, tuple(sorted(set(uids))))
                break
        out.append(found or _fuzzy(asset, names, fuzzy_ratio))
    return out


def _fuzzy(asset: Asset, names: Sequence[tuple[str, str]], bar: float) -> Match:
    """The most similar coin name (``difflib`` ratio, as legacy); cheap upper bounds skip hopeless names."""
    wanted = normalize(asset.name)
    best, uids = 0.0, []
    matcher = difflib.SequenceMatcher(None, wanted)  # the asset's name first, the coin's second, as legacy
    for uid, name in names:
        matcher.set_seq2(name)
        if matcher.real_quick_ratio() < best or matcher.quick_ratio() < best:
            continue  # both bound the ratio from above: this name cannot beat (or tie) the best
        score = matcher.ratio()
        if score > best:
            best, uids = score, [uid]
        elif score == best:
            uids.append(uid)
    if best >= bar and uids:
        return Match(asset, min(uids), "fuzzy_name", best, tuple(sorted(set(uids))))
    return Match(asset, None, "unmatched", best)


DATASET = "asset_coin_uid_map"


#: The fuzzy match's bar as a flow parameter (the command line checks it with the same type).
FuzzyRatio = Annotated[float, Field(ge=0.5, le=1.0)]


class CoinMapParameters(BaseModel):
    """The run's parameters (the command line's options and the Prefect form's fields)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fuzzy_ratio: FuzzyRatio = Field(
        FUZZY_RATIO,
        description="Least name similarity (difflib ratio, 0.5-1) of a fuzzy name match; the legacy mapper's 0.85.",
    )


COIN_COLUMNS = ("coin_uid", "ticker", "name", "coingecko_id", "coinmarketcap_id")
LISTED = 50  # unmatched and ambiguous assets named in the summary


@dataclass
class CoinMapOutcome:
    """What one mapping run did.

    Attributes:
        assets: assets read from ``cc_assets``.
        coins: coins read from the registry.
        by_type: matches per ``match_type`` (``unmatched`` included).
        unmatched: ``symbol (asset_id)`` of the assets nothing matched.
        ambiguous: ``symbol (asset_id): rule -> candidates`` of the assets two or more coins fitted.
        inserted: mappings written for the first time.
        changed: mappings whose coin, rule or score changed.
        unchanged: mappings as stored (not rewritten).
    """

    assets: int = 0
    coins: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    inserted: int = 0
    changed: int = 0
    unchanged: int = 0

    def headline(self) -> str:
        """One line: what matched how, and what was written."""
        types = ", ".join(f"{self.by_type[t]} {t}" for t in MATCH_TYPES if self.by_type[t])
        return (
            f"{DATASET}: {self.assets} assets, {self.coins} coins: {types or 'nothing'}; {len(self.ambiguous)} "
            f"ambiguous; {self.inserted} inserted, {self.changed} changed, {self.unchanged} unchanged"
        )

    def rows(self) -> list[dict[str, object]]:
        """The artifact's rows: one per match type, then the unmatched and ambiguous assets named."""
        rows: list[dict[str, object]] = [
            {"match_type": t, "assets": self.by_type[t], "examples": ""} for t in MATCH_TYPES
        ]
        rows[-1]["examples"] = "; ".join(self.unmatched[:LISTED])
        rows.append({"match_type": "ambiguous", "assets": len(self.ambiguous), "examples": "; ".join(self.ambiguous)})
        return rows

    def metrics(self) -> dict[str, Any]:
        """The run's figures (event payload, run log)."""
        return {
            "series": self.assets,
            "rows_inserted": self.inserted,
            "rows_changed": self.changed,
            "rows_unchanged": self.unchanged,
            **{f"matched_{t}": self.by_type[t] for t in MATCH_TYPES},
            "ambiguous": len(self.ambiguous),
        }
