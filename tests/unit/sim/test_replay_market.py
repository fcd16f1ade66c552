"""The queue-position model of replay mode: join at the back, advance on trades and cancels, fill."""

from __future__ import annotations

from decimal import Decimal

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
from flashmm_engine.venues.sim.queue import PowerProbQueue, QueuePos, RiskAverseQueue, parse_queue_model
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
    pos = QueuePos(front=30.0)
    PowerProbQueue(2.0).on_depth(pos, prev_qty=40, new_qty=20)
    assert pos.front == pytest.approx(30 - 0.9 * 20 + min(10 - 0.1 * 20, 0))
    # a trade already counted is not counted again by the book diff that follows it
    pos = QueuePos(front=30.0)
    model = PowerProbQueue(2.0)
    model.on_trade(pos, 5)
    model.on_depth(pos, prev_qty=40, new_qty=35)
    assert pos.front == 25.0
    averse = QueuePos(front=30.0)
    RiskAverseQueue().on_depth(averse, 40, 20)
    assert averse.front == 20.0


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
