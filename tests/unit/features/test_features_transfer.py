"""Features mean the same on another instrument: the same market in other size units, or at another
price level or time, gives the same features; nothing is a raw price, size or absolute time."""

from __future__ import annotations

import dataclasses

import numpy as np

from flashmm_engine.features.batch import compute_features
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.types import NS_PER_S, BookDelta, BookSnapshot, MarketEvent, TopOfBook, Trade

SIZE_FACTOR = 1_000
PRICE_SHIFT_TICKS = 100_000
DAY_NS = 86_400 * NS_PER_S
PRICE_LEVEL_GROUPS = ("ret_", "vol_spreads_", "realized_vol_spreads_")
"""Returns and volatility are relative to the price level (bps), so a price shift rescales them slightly."""


def rescaled(event: MarketEvent, size: int = 1, shift: int = 0, later: int = 0) -> MarketEvent:
    event = dataclasses.replace(event, ts_local=event.ts_local + later, ts_exchange=event.ts_exchange + later)
    if isinstance(event, BookDelta | Trade):
        return dataclasses.replace(event, price=event.price + shift, size=event.size * size)
    if isinstance(event, TopOfBook):
        return dataclasses.replace(
            event,
            bid_price=event.bid_price + shift,
            ask_price=event.ask_price + shift,
            bid_size=event.bid_size * size,
            ask_size=event.ask_size * size,
        )
    assert isinstance(event, BookSnapshot)
    bids = tuple((p + shift, q * size) for p, q in event.bids)
    asks = tuple((p + shift, q * size) for p, q in event.asks)
    return dataclasses.replace(event, bids=bids, asks=asks)


def features(events: list[MarketEvent], market: str) -> tuple[list[str], np.ndarray]:
    frame = compute_features(iter(events), FeatureSpec(), market)
    return frame.names, frame.values[frame.warm]


def test_sizes_in_other_units_give_the_same_features(spot_events: list[MarketEvent]) -> None:
    market = spot_events[0].market
    _, base = features(spot_events, market)
    _, scaled = features([rescaled(e, size=SIZE_FACTOR) for e in spot_events], market)
    assert len(base) > 100
    assert np.abs(base - scaled).max() <= 1e-9 * max(1.0, float(np.abs(base).max()))


def test_another_day_gives_the_same_features(spot_events: list[MarketEvent]) -> None:
    market = spot_events[0].market
    _, base = features(spot_events, market)
    _, later = features([rescaled(e, later=DAY_NS) for e in spot_events], market)
    assert np.abs(base - later).max() <= 1e-9


def test_another_price_level_changes_only_the_relative_return_features(
    spot_events: list[MarketEvent],
) -> None:
    market = spot_events[0].market
    names, base = features(spot_events, market)
    _, shifted = features([rescaled(e, shift=PRICE_SHIFT_TICKS) for e in spot_events], market)
    level_free = [i for i, n in enumerate(names) if not n.startswith(PRICE_LEVEL_GROUPS)]
    assert np.abs(base[:, level_free] - shifted[:, level_free]).max() <= 1e-9
    moved = [i for i, n in enumerate(names) if n.startswith(PRICE_LEVEL_GROUPS)]
    assert np.abs(base[:, moved] - shifted[:, moved]).max() > 0  # the check sees these columns


def test_every_name_states_a_scale_free_unit() -> None:
    units = ("_spread", "_ticks", "_z", "_depth", "_rel", "_s", "imb_", "_side", "depth_")
    for name in FeatureSpec().names():
        assert "_bps" not in name, name
        assert any(u in name for u in units), name
