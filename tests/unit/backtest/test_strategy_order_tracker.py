"""The strategy's order tracker deduplicates fills with a capped, least-recently-seen-first memory."""

from __future__ import annotations

from flashmm_engine.strategy import orders as orders_module
from flashmm_engine.strategy.orders import OrderTracker
from flashmm_engine.types import Fill, Liquidity, Side


def fill(n: int) -> Fill:
    return Fill(f"f{n}", f"c{n}", f"v{n}", "M", Side.BUY, 100, 1, 0, Liquidity.MAKER, n)


def test_seen_fills_stay_below_the_cap_and_recent_duplicates_count_once() -> None:
    tracker = OrderTracker("t-")
    cap = orders_module.MAX_SEEN_FILLS
    total = cap + 5_000
    for n in range(total):
        tracker.on_event(fill(n))
        if n == 10:
            tracker.on_event(fill(0))  # a recent redelivery: ignored, and kept as recently seen
    assert tracker.position == total and tracker.fills == total
    assert len(tracker._seen_fills) == cap
    tracker.on_event(fill(total - 1))
    tracker.on_event(fill(total - cap))
    assert tracker.position == total  # still remembered: not counted twice
    tracker.on_event(fill(1))  # fell off long ago: the cap is what bounds the memory
    assert tracker.position == total + 1
