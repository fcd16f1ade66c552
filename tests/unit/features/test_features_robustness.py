"""Whatever the events, no NaN or inf ever leaves the feature code, and bad book updates are counted."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.features.state import FeatureState, SampleOrderError
from flashmm_engine.types import BookDelta, BookSnapshot, MarketEvent, Side, TopOfBook, Trade

MARKET = "test:X"
REF = "test:REF"
sizes = st.integers(min_value=0, max_value=10**12)
prices = st.integers(min_value=1, max_value=10**9)


@st.composite
def events(draw: st.DrawFn) -> list[MarketEvent]:
    out: list[MarketEvent] = []
    ts = 0
    for _ in range(draw(st.integers(1, 60))):
        ts += draw(st.integers(0, 3_000_000_000))
        kind = draw(st.sampled_from(["delta", "top", "trade", "snap", "ref"]))
        if kind == "delta":
            side = draw(st.sampled_from([Side.BUY, Side.SELL]))
            size = draw(st.integers(-5, 10**12))  # negative sizes are bad input
            out.append(BookDelta(ts, ts, MARKET, side, draw(prices), size, 1))
        elif kind in ("top", "ref"):
            market = MARKET if kind == "top" else REF
            out.append(TopOfBook(ts, ts, market, draw(prices), draw(sizes), draw(prices), draw(sizes), 1))
        elif kind == "trade":
            side = draw(st.sampled_from([Side.BUY, Side.SELL]))
            out.append(Trade(ts, ts, MARKET, draw(prices), draw(sizes), side, 1))
        else:
            levels = st.lists(st.tuples(prices, sizes), max_size=12)
            out.append(BookSnapshot(ts, ts, MARKET, 1, tuple(draw(levels)), tuple(draw(levels))))
    return out


@settings(max_examples=60, deadline=None)
@given(events(), st.booleans())
def test_samples_are_always_finite(stream: list[MarketEvent], with_reference: bool) -> None:
    spec = FeatureSpec(reference_market=REF if with_reference else None)
    state = FeatureState(spec, MARKET)
    for event in stream:
        state.on_event(event)
        values = state.sample(event.ts_local)
        assert values.shape == (len(spec.names()),)
        assert np.isfinite(values).all()


def test_sample_before_any_event_is_zeros_and_not_warm() -> None:
    state = FeatureState(FeatureSpec(), MARKET)
    assert not state.sample(0).any()
    assert not state.is_warm(0)


def test_negative_size_is_counted_not_applied() -> None:
    state = FeatureState(FeatureSpec(), MARKET)
    state.on_event(BookSnapshot(0, 0, MARKET, 1, ((100, 5),), ((101, 5),)))
    state.on_event(BookDelta(1, 1, MARKET, Side.BUY, 100, -3, 2))
    assert state.bad_input.counts["feature_book_update"] == 1
    assert state.depth.best_bid() == (100, 5)


def test_sampling_backwards_in_time_is_refused() -> None:
    state = FeatureState(FeatureSpec(), MARKET)
    state.sample(10)
    try:
        state.sample(5)
    except SampleOrderError:
        return
    raise AssertionError("sampling backwards was accepted")
