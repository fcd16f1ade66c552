"""The engine's reference feed without a network: tops in each market's ticks, freshness and its counts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.engine.feature_spec import engine_feature_spec
from flashmm_engine.engine.reference import ReferenceFeed
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.features.state import FeatureState
from flashmm_engine.marketdata.records import DepthSnapshot
from flashmm_engine.types import NS_PER_S, MarketSpec
from flashmm_engine.venues.binance.feed import BinanceFeed, FeedConfig
from tests.binance_specs import eth_instrument

STALE_S = 1.0
SIM = MarketSpec("SIM:ETHUSD", Decimal("0.05"), Decimal("0.001"))


def _reference() -> ReferenceFeed:
    settings = Settings(
        engine=EngineSettings(reference_feed=True, reference_symbol="ethusdt", reference_stale_s=STALE_S)
    )
    reference = ReferenceFeed(settings)
    config = FeedConfig(
        market="spot",
        symbol="ETHUSDT",
        ws_urls=("ws://127.0.0.1:9",),
        rest_urls=("http://127.0.0.1:9",),
        spec=eth_instrument("spot"),
    )
    reference.feed = BinanceFeed(config, sink=reference)
    return reference


def _book(reference: ReferenceFeed, bid: int, ask: int, update_id: int) -> None:
    assert reference.feed is not None
    reference.feed.processor.book.load([(bid, 3)], [(ask, 4)])
    reference.feed.processor.sync.synced = True
    reference.on_snapshot(update_id, DepthSnapshot(update_id, update_id, update_id, [], []))


def test_the_spec_names_the_reference_market_only_when_configured() -> None:
    assert engine_feature_spec(Settings()) == FeatureSpec()
    spec = engine_feature_spec(Settings(engine=EngineSettings(reference_feed=True)))
    assert spec.reference_market == "binance-spot:ETHUSDT" and "ref_basis_bps" in spec.names()


def test_tops_reach_each_market_in_its_own_ticks() -> None:
    reference = _reference()
    features = FeatureState(FeatureSpec(reference_market=reference.market), SIM.symbol)
    reference.attach(features, SIM)
    _book(reference, 300_012, 300_013, 1)  # 3000.12 / 3000.13 USDT: 60002.4 / 60002.6 sim ticks
    assert features.ref_mid_x2 == 60_002 + 60_003
    assert reference.counts.updates == 1


def test_a_market_whose_spec_lacks_the_reference_is_refused() -> None:
    reference = _reference()
    with pytest.raises(ValueError, match="reference"):
        reference.attach(FeatureState(FeatureSpec(), SIM.symbol), SIM)


def test_stale_and_resyncing_spans_are_counted_once_and_recover() -> None:
    reference = _reference()
    assert not reference.fresh(0)  # nothing yet: start-up, not counted as a span
    _book(reference, 300_012, 300_013, 1)
    assert reference._last_update_ns is not None
    now = reference._last_update_ns
    assert reference.fresh(now)
    late = now + int(STALE_S * NS_PER_S) + 1
    assert not reference.fresh(late) and not reference.fresh(late + 1)  # one span, however many cycles
    _book(reference, 300_014, 300_015, 2)
    assert reference._last_update_ns is not None
    assert reference.fresh(reference._last_update_ns)
    assert reference.feed is not None
    reference.feed.processor.sync.synced = False  # a gap: resyncing
    assert not reference.fresh(reference._last_update_ns)
    assert (reference.counts.unavailable_spans, reference.counts.recoveries) == (2, 1)
