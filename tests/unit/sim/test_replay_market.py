"""The queue-position model of replay mode: join at the back, advance on trades and cancels, fill."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from flashmm_engine.types import (
    CancelRequest,
    Fill,
    Liquidity,
    MarketSpec,
    OrderRequest,
    Reject,
    RejectReason,
    Side,
    TimeInForce,
)
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.matching import MatchingEngine
from flashmm_engine.venues.sim.queue import (
    QUEUE_UNITS_PER_LOT as U,
)
from flashmm_engine.venues.sim.queue import (
    PowerProbQueue,
    QueuePos,
    RiskAverseQueue,
    parse_queue_model,
)
from flashmm_engine.venues.sim.replay_market import ReplayMarket

MARKET = "T:ETHUSD"
BUY, SELL = 1, -1


def _market(queue: str = "risk-averse", partial: bool = False) -> ReplayMarket:
    spec = MarketSpec(MARKET, Decimal("0.01"), Decimal("0.001"))
    engine = MatchingEngine(
        [SimMarket(spec, maker_fee_ppm=-50, taker_fee_ppm=500, allow_short=True, check_quote=False)]
    )
    market = ReplayMarket(engine, MARKET, parse_queue_model(queue), partial)
    for price, size in ((99, 10), (98, 20)):
        market.on_level(BUY, price, size, 0)
    for price, size in ((101, 10), (102, 20)):
        market.on_level(SELL, price, size, 0)
    return market


def _fills(events: list) -> list[Fill]:  # type: ignore[type-arg]
    return [e for _, e in events if isinstance(e, Fill)]


def test_order_joins_the_back_and_fills_when_trades_exhaust_the_queue() -> None:
    market = _market()
    market.submit("me", OrderRequest("b", MARKET, Side.BUY, 99, 2, TimeInForce.POST_ONLY), 1)
    assert not _fills(market.on_trade(SELL, 99, 6, 2))  # 10 ahead of us, 4 left
    assert not _fills(market.on_trade(SELL, 99, 4, 3))  # queue ahead exactly consumed, not yet us
    (fill,) = _fills(market.on_trade(SELL, 99, 1, 4))
    assert (fill.price, fill.size, fill.liquidity, fill.fee) == (99, 2, Liquidity.MAKER, 99 * 2 * -50)
    assert market.engine.open_orders("me") == []


def test_risk_averse_ignores_cancels_ahead_but_caps_at_level_size() -> None:
    market = _market("risk-averse")
    market.submit("me", OrderRequest("b", MARKET, Side.BUY, 99, 1), 1)
    market.on_level(BUY, 99, 4, 2)  # 6 lots cancelled somewhere: we assume behind us, but at most 4 ahead
    assert not _fills(market.on_trade(SELL, 99, 4, 3))
    assert _fills(market.on_trade(SELL, 99, 1, 4))


def test_a_trade_through_our_price_or_a_crossing_book_fills_us() -> None:
    market = _market()
    market.submit("me", OrderRequest("b", MARKET, Side.BUY, 99, 1), 1)
    market.submit("me", OrderRequest("s", MARKET, Side.SELL, 101, 1), 1)
    assert [f.client_id for f in _fills(market.on_trade(SELL, 98, 1, 2))] == ["b"]
    assert [f.client_id for f in _fills(market.on_level(BUY, 101, 5, 3))] == ["s"]


def test_crossing_orders_take_liquidity_and_post_only_is_rejected() -> None:
    market = _market(partial=True)
    ((_, reject),) = market.submit(
        "me", OrderRequest("p", MARKET, Side.BUY, 101, 1, TimeInForce.POST_ONLY), 1
    )
    assert isinstance(reject, Reject) and reject.reason is RejectReason.POST_ONLY_WOULD_CROSS
    fills = _fills(market.submit("me", OrderRequest("t", MARKET, Side.BUY, 102, 15, TimeInForce.IOC), 1))
    assert [(f.price, f.size, f.liquidity) for f in fills] == [
        (101, 10, Liquidity.TAKER),
        (102, 5, Liquidity.TAKER),
    ]


def test_partial_fills_execute_only_what_got_past_us() -> None:
    market = _market(partial=True)
    market.submit("me", OrderRequest("b", MARKET, Side.BUY, 99, 5), 1)
    (fill,) = _fills(market.on_trade(SELL, 99, 12, 2))
    assert (fill.size, fill.remaining) == (2, 3)


def test_cancel_removes_the_queue_position() -> None:
    market = _market()
    market.submit("me", OrderRequest("b", MARKET, Side.BUY, 99, 1), 1)
    market.cancel("me", CancelRequest("b", MARKET), 2)
    assert not _fills(market.on_trade(SELL, 98, 50, 3))
    assert market.max_our_bid < 0


def test_power_prob_queue_matches_the_hftbacktest_formula() -> None:
    # front 30, back 10, a 20-lot decrease: p(behind) = 10^2 / (10^2 + 30^2) = 0.1
    # -> 30 - 0.9 * 20 + min(10 - 0.1 * 20, 0) = 12 lots, exactly
    pos = QueuePos.behind(30)
    PowerProbQueue(Fraction(2)).on_depth(pos, prev_qty=40, new_qty=20)
    assert pos.front == 12 * U
    # front 7, back 3, a 1-lot decrease: 49/58 of it from ahead of us, floored to a queue unit
    pos = QueuePos.behind(7)
    PowerProbQueue(Fraction(2)).on_depth(pos, prev_qty=10, new_qty=9)
    assert pos.front == 7 * U - 844_827 and type(pos.front) is int
    # a trade already counted is not counted again by the book diff that follows it
    pos = QueuePos.behind(30)
    model = PowerProbQueue(Fraction(2))
    model.on_trade(pos, 5)
    model.on_depth(pos, prev_qty=40, new_qty=35)
    assert pos.front == 25 * U
    averse = QueuePos.behind(30)
    RiskAverseQueue().on_depth(averse, 40, 20)
    assert averse.front == 20 * U


def test_queue_fills_count_whole_lots_that_got_past() -> None:
    pos = QueuePos.behind(2)
    RiskAverseQueue().on_trade(pos, 2)
    assert pos.passed_lots() == 0
    pos.front -= U // 2  # half a lot past us is not a fill
    assert pos.passed_lots() == 0
    pos.front -= 3 * U
    assert pos.passed_lots() == 3
    pos.consume(3)
    assert pos.passed_lots() == 0 and pos.front == -U // 2


def test_fractional_power_splits_in_queue_units() -> None:
    model = parse_queue_model("power:1.5")
    assert model.name == "power:1.5"
    pos = QueuePos.behind(4)
    model.on_depth(pos, prev_qty=5, new_qty=4)  # front 4, back 1: 8 / (8 + 1) of the lot from ahead
    assert pos.front == 4 * U - round(U * 8 / 9) and type(pos.front) is int


def test_queue_model_names_are_validated() -> None:
    assert parse_queue_model("power:3").name == "power:3"
    for bad in ("power:x", "power:-1", "fifo"):
        with pytest.raises(ValueError):
            parse_queue_model(bad)


def test_best_prices_follow_removals() -> None:
    market = _market()
    market.on_level(BUY, 99, 0, 1)
    market.on_level(SELL, 101, 0, 1)
    assert (market.best_bid(), market.best_ask()) == (98, 102)
    market.on_level(BUY, 98, 0, 2)
    assert market.best_bid() is None and market.top() is None
