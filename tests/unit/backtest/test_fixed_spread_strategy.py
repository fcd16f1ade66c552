"""The fixed-spread strategy's quoting arithmetic, cancel/replace and position caps."""

from __future__ import annotations

from collections.abc import Sequence

from flashmm_engine.service.clock import ManualClock
from flashmm_engine.strategy.base import BookTop
from flashmm_engine.strategy.fixed_spread import FixedSpreadParams, FixedSpreadStrategy
from flashmm_engine.types import Ack, CancelRequest, Fill, Liquidity, OrderRequest, Side, TimeInForce


class RecordingSink:
    def __init__(self) -> None:
        self.placed: list[OrderRequest] = []
        self.cancelled: list[CancelRequest] = []

    def place(self, orders: Sequence[OrderRequest]) -> None:
        self.placed.extend(orders)

    def cancel(self, cancels: Sequence[CancelRequest]) -> None:
        self.cancelled.extend(cancels)


def _strategy(**kw: int) -> tuple[FixedSpreadStrategy, RecordingSink]:
    strategy = FixedSpreadStrategy(FixedSpreadParams(market="M", **kw))  # type: ignore[arg-type]
    sink = RecordingSink()
    strategy.bind(ManualClock(), sink)
    return strategy, sink


def test_quotes_are_symmetric_around_the_mid_and_never_inside_the_touch() -> None:
    strategy, _ = _strategy(half_spread_ticks=5)
    assert strategy.quotes(BookTop(100, 1, 101, 1), 0) == (95, 106)  # mid 100.5: floor / ceil
    assert strategy.quotes(BookTop(100, 1, 102, 1), 0) == (96, 106)
    assert strategy.quotes(BookTop(100, 1, 101, 1), 3) == (92, 103)  # long 3 orders: shift down 3 ticks
    wide, _ = _strategy(half_spread_ticks=0)
    assert wide.quotes(BookTop(100, 1, 104, 1), 0) == (100, 104)


def test_cancel_replace_and_position_caps() -> None:
    strategy, sink = _strategy(half_spread_ticks=1, max_position=1)
    strategy.decide(BookTop(100, 1, 102, 1))
    assert [(o.side, o.price, o.tif) for o in sink.placed] == [
        (Side.BUY, 100, TimeInForce.POST_ONLY),
        (Side.SELL, 102, TimeInForce.POST_ONLY),
    ]
    for order in sink.placed:
        strategy.on_event(Ack(order.client_id, "v", 0))
    strategy.decide(BookTop(100, 1, 102, 1))
    assert len(sink.placed) == 2 and not sink.cancelled  # unchanged quotes stay
    strategy.decide(BookTop(101, 1, 103, 1))
    assert [c.client_id for c in sink.cancelled] == ["fx-1", "fx-2"] and len(sink.placed) == 4
    bid = sink.placed[2]
    strategy.on_event(Fill("f1", bid.client_id, "v", "M", Side.BUY, bid.price, 1, 0, Liquidity.MAKER, 0, 0))
    strategy.decide(BookTop(101, 1, 103, 1))
    assert strategy.tracker.position == 1
    assert not strategy.tracker.working(Side.BUY)  # at the cap: no new bid
    assert strategy.tracker.working(Side.SELL)
