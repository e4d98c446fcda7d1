"""Asset -> coin_uid matching: the legacy mapper's order of rules, ties seen, the fuzzy bar, the pruning exact."""

from __future__ import annotations

import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingestion_core.coin_uid import Asset, Coin, match_assets, normalize

pytestmark = pytest.mark.unit

COINS = [
    Coin("uid-btc", "BTC", "Bitcoin", "bitcoin", "1"),
    Coin("uid-eth", "ETH", "Ethereum", "ethereum", "1027"),
    Coin("uid-usdt", "USDT", "Tether", None, "825"),
    Coin("uid-sol", "SOL", "Solana"),
    Coin("uid-abc-1", "ABC", "Alpha Beta"),
    Coin("uid-abc-2", "ABC", "Alpha Beta Chain"),  # a second coin with the ticker ABC
    Coin("uid-link", "LINK", "Chain-link"),
]


def one(asset: Asset) -> tuple[str | None, str, float, tuple[str, ...]]:
    (m,) = match_assets([asset], COINS)
    return m.coin_uid, m.match_type, round(m.match_score, 4), m.candidates


def test_the_rules_apply_in_the_legacy_order() -> None:
    # CoinGecko id first, even when the symbol would point elsewhere.
    assert one(Asset(1, "ETH", "Bitcoin", coingecko_id="bitcoin"))[:2] == ("uid-btc", "coingecko_id")
    assert one(Asset(2, "XXX", "Tether USD", coinmarketcap_id="825"))[:2] == ("uid-usdt", "coinmarketcap_id")
    assert one(Asset(3, "SOL", "Something Else"))[:2] == ("uid-sol", "symbol")
    assert one(Asset(4, "LNK", "chain_link"))[:2] == ("uid-link", "name")  # normalised: no space, dash, underscore


def test_symbol_match_is_exact_case_as_in_the_legacy() -> None:
    assert one(Asset(5, "sol", "Sol Ana X"))[1] != "symbol"


def test_two_coins_for_one_rule_are_an_ambiguous_match_with_the_smallest_uid_chosen() -> None:
    uid, kind, _, candidates = one(Asset(6, "ABC", "Whatever"))
    assert (uid, kind, candidates) == ("uid-abc-1", "symbol", ("uid-abc-1", "uid-abc-2"))
    (m,) = match_assets([Asset(6, "ABC", "Whatever")], COINS)
    assert m.ambiguous


def test_a_fuzzy_name_match_needs_the_bar_and_reports_its_ratio() -> None:
    uid, kind, score, _ = one(Asset(7, "XBT", "Bitcoins"))
    expected = difflib.SequenceMatcher(None, "bitcoins", "bitcoin").ratio()
    assert (uid, kind, score) == ("uid-btc", "fuzzy_name", round(expected, 4))
    assert one(Asset(8, "ZZZ", "Completely Different"))[:2] == (None, "unmatched")
    (strict,) = match_assets([Asset(7, "XBT", "Bitcoins")], COINS, fuzzy_ratio=0.99)
    assert strict.match_type == "unmatched" and strict.match_score == pytest.approx(expected)


def test_normalize_is_the_legacy_key() -> None:
    assert normalize("Chain Link-Token_X") == "chainlinktokenx"
    assert normalize(None) == ""


NAMES = st.text(alphabet="abcde -_", min_size=0, max_size=12)


@settings(max_examples=150, deadline=None)
@given(asset_names=st.lists(NAMES, min_size=1, max_size=5), coin_names=st.lists(NAMES, min_size=1, max_size=12))
def test_the_pruned_fuzzy_search_finds_what_comparing_every_name_finds(
    asset_names: list[str], coin_names: list[str]
) -> None:
    coins = [Coin(f"c{i:02d}", None, name) for i, name in enumerate(coin_names)]
    assets = [Asset(i, f"S{i}", name) for i, name in enumerate(asset_names)]
    for match in match_assets(assets, coins, fuzzy_ratio=0.0):
        if match.match_type == "name":
            continue
        wanted = normalize(match.asset.name)
        scores = [
            (difflib.SequenceMatcher(None, wanted, normalize(c.name)).ratio(), c.coin_uid) for c in coins if c.name
        ]
        best = max((s for s, _ in scores), default=0.0)
        assert match.match_score == best
        if match.coin_uid is not None:
            assert set(match.candidates) == {uid for s, uid in scores if s == best}
