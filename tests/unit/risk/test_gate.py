"""The pre-trade gate case by case: worst-case limits, REDUCING, HALTED, bands, sizes, throttles, the feed
guard, and the loss limits."""

from __future__ import annotations

from decimal import Decimal

from flashmm_engine.risk.gate import RiskGate
from flashmm_engine.risk.limits import RiskLimits, limits_for, quote_to_notional
from flashmm_engine.types import (
    NOTIONAL_SCALE,
    NS_PER_MS,
    NS_PER_S,
    BookTop,
    FeedView,
    MarketSpec,
    MarketView,
    OrderStatus,
    Quote,
    Side,
    TradingState,
    WorkingOrder,
)

LIMITS = RiskLimits(max_notional=10**18, max_position_lots=10)


def view(
    position: int = 0,
    working: tuple[WorkingOrder, ...] = (),
    now: int = NS_PER_S,
    book_ts: int | None = None,
    gate: RiskGate | None = None,
) -> MarketView:
    feed = FeedView("M", now, BookTop(999, 1, 1001, 1), book_ts_ns=now if book_ts is None else book_ts)
    state = gate.state if gate is not None else RiskGate(LIMITS).state
    return MarketView(feed, now, position, working, state)


def working(side: Side, remaining: int, cancel_sent: bool = False) -> WorkingOrder:
    return WorkingOrder("c", "M", side, 990, remaining, remaining, OrderStatus.OPEN, 0, 0, cancel_sent)


def test_worst_case_counts_working_orders_even_cancel_pending_ones() -> None:
    gate = RiskGate(LIMITS)
    v = view(position=6, working=(working(Side.BUY, 2, cancel_sent=True),))
    approved = gate.approve(v, [Quote(Side.BUY, 998, 2), Quote(Side.BUY, 997, 1), Quote(Side.SELL, 1002, 5)])
    assert approved == [Quote(Side.BUY, 998, 2), Quote(Side.SELL, 1002, 5)]  # 6 + 2 + 2 = 10; one more is 11
    assert gate.refusals["max_position"] == 1


def test_notional_limit_at_the_worse_of_price_and_mid() -> None:
    gate = RiskGate(RiskLimits(max_notional=5 * 1003 * NOTIONAL_SCALE))
    assert gate.approve(view(), [Quote(Side.SELL, 1003, 5)]) == [Quote(Side.SELL, 1003, 5)]
    assert gate.approve(view(), [Quote(Side.SELL, 1004, 5)]) == []
    assert gate.refusals["max_notional"] == 1


def test_default_limit_is_2000_quote_units_of_notional() -> None:
    spec = MarketSpec("ETHUSDT", Decimal("0.01"), Decimal("0.001"))
    limits = limits_for(spec)
    assert limits.max_notional == quote_to_notional(spec, Decimal(2000)) == 2000 * 100 * 1000 * NOTIONAL_SCALE
    gate = RiskGate(limits)
    price = 250_000  # 2,500.00
    feed = FeedView("ETHUSDT", 0, BookTop(price - 1, 1, price + 1, 1), book_ts_ns=0)
    v = MarketView(feed, 0, 0, (), gate.state)
    assert gate.approve(v, [Quote(Side.BUY, price - 1, 800)]) == [Quote(Side.BUY, price - 1, 800)]  # 1,999.99
    assert gate.approve(v, [Quote(Side.BUY, price - 1, 801)]) == []  # 2,500.00 x 0.801 > 2,000


def test_reducing_allows_only_orders_that_shrink_the_position() -> None:
    gate = RiskGate(LIMITS)
    gate.set_state(TradingState.REDUCING, "test", 5)
    v = view(position=-3, gate=gate)
    assert gate.approve(v, [Quote(Side.SELL, 1002, 1)]) == []  # grows a short
    assert gate.approve(v, [Quote(Side.BUY, 998, 5)]) == []  # would flip to +2
    assert gate.approve(v, [Quote(Side.BUY, 998, 2), Quote(Side.BUY, 997, 2)]) == [Quote(Side.BUY, 998, 2)]
    assert gate.approve(v, [Quote(Side.BUY, 998, 3)]) == [Quote(Side.BUY, 998, 3)]  # to flat is reducing
    flat = view(position=0, gate=gate)
    assert gate.approve(flat, [Quote(Side.BUY, 998, 1), Quote(Side.SELL, 1002, 1)]) == []
    assert gate.refusals["reducing"] == 5


def test_halted_refuses_everything_and_screen_pulls_all_quotes() -> None:
    gate = RiskGate(LIMITS)
    assert gate.set_state(TradingState.HALTED, "operator", 7) and not gate.set_state(
        TradingState.HALTED, "x", 8
    )
    assert gate.state.reason == "operator" and gate.state.since_ns == 7
    assert gate.screen(view(gate=gate), [Quote(Side.BUY, 998, 1)]) == ()
    assert gate.approve(view(gate=gate), [Quote(Side.BUY, 998, 1)]) == []


def test_a_system_reason_replaces_an_operators_in_the_same_state() -> None:
    gate = RiskGate(LIMITS)
    assert gate.set_state(TradingState.HALTED, "operator_pause", 1)
    assert gate.set_state(TradingState.HALTED, "ledger_write_failed", 2)
    assert gate.state.reason == "ledger_write_failed" and gate.state.since_ns == 2
    assert not gate.set_state(TradingState.HALTED, "operator_halt", 3)
    assert gate.state.reason == "ledger_write_failed"
    assert gate.set_state(TradingState.REDUCING, "operator_flatten", 4)
    assert gate.escalate(TradingState.REDUCING, "reconcile: position differs", 5)
    assert gate.state.reason == "reconcile: position differs"


def test_escalate_only_tightens() -> None:
    gate = RiskGate(LIMITS)
    assert gate.escalate(TradingState.HALTED, "storm", 1)
    assert not gate.escalate(TradingState.REDUCING, "drawdown", 2)
    assert gate.state.state is TradingState.HALTED


def test_price_band_and_order_size() -> None:
    gate = RiskGate(RiskLimits(max_notional=10**18, price_band_bps=100, max_order_lots=3))
    quotes = [
        Quote(Side.BUY, 990, 1),
        Quote(Side.BUY, 989, 1),
        Quote(Side.SELL, 1002, 4),
        Quote(Side.SELL, 1002, 0),
    ]
    assert gate.screen(view(), quotes) == (Quote(Side.BUY, 990, 1),)  # 1% of 1000 = 10 ticks
    assert (
        gate.refusals["price_band"],
        gate.refusals["max_order_size"],
        gate.refusals["malformed_quote"],
    ) == (1, 1, 1)


def test_stale_or_resyncing_feed_pulls_quotes() -> None:
    gate = RiskGate(RiskLimits(max_notional=10**18, stale_feed_ns=500 * NS_PER_MS))
    fresh = view(now=NS_PER_S, book_ts=NS_PER_S - 500 * NS_PER_MS)
    assert gate.screen(fresh, [Quote(Side.BUY, 998, 1)])
    stale = view(now=NS_PER_S, book_ts=NS_PER_S - 500 * NS_PER_MS - 1)
    assert gate.feed_problem(stale) == "stale_feed" and gate.screen(stale, [Quote(Side.BUY, 998, 1)]) == ()
    feed = FeedView("M", 0, BookTop(999, 1, 1001, 1), book_ts_ns=0, synced=False)
    assert gate.feed_problem(MarketView(feed, 0, 0, (), gate.state)) == "feed_resyncing"


def test_throttle_per_second_and_minute() -> None:
    gate = RiskGate(RiskLimits(max_notional=10**18, max_orders_per_s=2, max_orders_per_min=3))
    quotes = [Quote(Side.BUY, 998, 1)] * 3
    assert len(gate.approve(view(now=NS_PER_S), quotes)) == 2
    assert gate.refusals["rate_per_s"] == 1
    assert len(gate.approve(view(now=2 * NS_PER_S + 1), quotes)) == 1  # the minute allows one more
    assert gate.refusals["rate_per_min"] == 2
    assert len(gate.approve(view(now=62 * NS_PER_S), quotes)) == 2


def test_daily_loss_halts_until_the_next_day_and_drawdown_reduces() -> None:
    gate = RiskGate(RiskLimits(max_notional=10**18, max_daily_loss=100, max_drawdown=50))
    gate.on_equity(1_000, 0)
    gate.on_equity(1_060, NS_PER_S)
    gate.on_equity(1_000, 2 * NS_PER_S)  # 60 below the peak
    assert (gate.state.state, gate.state.reason) == (TradingState.REDUCING, "drawdown")
    gate.on_equity(899, 3 * NS_PER_S)  # 101 below the day's start
    assert (gate.state.state, gate.state.reason) == (TradingState.HALTED, "daily_loss")
    gate.on_equity(899, 86_400 * NS_PER_S)
    assert gate.state.state is TradingState.ACTIVE and gate.state.reason == "new_day"
