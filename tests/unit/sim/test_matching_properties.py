"""Property tests of the matching engine: conservation, price-time priority, best execution, cancels."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from flashmm_engine.types import (
    Ack,
    CancelAck,
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
from flashmm_engine.venues.sim.matching import Events, MatchingEngine

MARKET = "T:ETHUSD"
ACCOUNTS = ("a", "b", "c")
BASE0, QUOTE0 = 1_000, 10**14

submit_op = st.tuples(
    st.just("submit"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(95, 105),
    st.integers(1, 6),
    st.sampled_from(list(TimeInForce)),
)
cancel_op = st.tuples(st.just("cancel"), st.sampled_from(ACCOUNTS), st.integers(0, 60))
ops_strategy = st.lists(st.one_of(submit_op, submit_op, cancel_op), min_size=1, max_size=60)


def _engine(maker_ppm: int = -100, taker_ppm: int = 700) -> MatchingEngine:
    spec = MarketSpec(MARKET, Decimal("0.01"), Decimal("0.001"))
    engine = MatchingEngine([SimMarket(spec, maker_ppm, taker_ppm)])
    for account in ACCOUNTS:
        engine.fund(account, MARKET, base=BASE0, quote=QUOTE0)
    return engine


def _run(engine: MatchingEngine, ops: list[tuple[object, ...]]) -> list[tuple[OrderRequest | None, Events]]:
    log: list[tuple[OrderRequest | None, Events]] = []
    sent: list[tuple[str, str]] = []
    for ts, op in enumerate(ops):
        if op[0] == "submit":
            _, account, side, price, size, tif = op
            request = OrderRequest(f"o{ts}", MARKET, side, price, size, tif)  # type: ignore[arg-type]
            sent.append((account, request.client_id))  # type: ignore[arg-type]
            log.append((request, engine.submit(account, request, ts)))  # type: ignore[arg-type]
        elif sent:
            account, client_id = sent[int(op[2]) % len(sent)]  # type: ignore[call-overload]
            log.append((None, engine.cancel(account, CancelRequest(client_id, MARKET), ts)))
    return log


@settings(max_examples=150, deadline=None)
@given(ops_strategy)
def test_conservation_of_base_and_quote_net_of_fees(ops: list[tuple[object, ...]]) -> None:
    engine = _engine()
    log = _run(engine, ops)
    fees = sum(e.fee for _, events in log for _, e in events if isinstance(e, Fill))
    balances = [engine.balance(a, MARKET) for a in ACCOUNTS]
    assert sum(b.base for b in balances) == BASE0 * len(ACCOUNTS)
    assert sum(b.quote for b in balances) + fees == QUOTE0 * len(ACCOUNTS)
    for b in balances:
        assert 0 <= b.reserved_base <= b.base and 0 <= b.reserved_quote <= b.quote


@settings(max_examples=150, deadline=None)
@given(ops_strategy)
def test_price_time_priority_and_no_fill_worse_than_the_book(ops: list[tuple[object, ...]]) -> None:
    engine = _engine()
    for ts, op in enumerate(ops):
        if op[0] != "submit":
            continue
        _, account, side, price, size, tif = op
        opposite_best = engine.best_ask(MARKET) if side is Side.BUY else engine.best_bid(MARKET)
        resting_before = {
            o.venue_order_id: o.ts
            for o in _all_resting(engine, side.opposite)  # type: ignore[union-attr]
        }
        request = OrderRequest(f"o{ts}", MARKET, side, price, size, tif)  # type: ignore[arg-type]
        events = engine.submit(account, request, ts)  # type: ignore[arg-type]
        makers = [e for _, e in events if isinstance(e, Fill) and e.liquidity is Liquidity.MAKER]
        takers = [e for _, e in events if isinstance(e, Fill) and e.liquidity is Liquidity.TAKER]
        assert [m.size for m in makers] == [t.size for t in takers]
        if not takers:
            continue
        assert takers[0].price == opposite_best  # the first fill is at the touch, never worse
        sign = side.sign  # type: ignore[union-attr]
        prices = [t.price for t in takers]
        assert all((price - p) * sign >= 0 for p in prices)  # type: ignore[operator]
        assert all((b - a) * sign >= 0 for a, b in itertools.pairwise(prices))  # best first
        for a, b in itertools.pairwise(makers):
            if a.price == b.price:  # same level: first come, first served
                assert resting_before[a.venue_order_id] <= resting_before[b.venue_order_id]


def _all_resting(engine: MatchingEngine, side: Side) -> list:  # type: ignore[type-arg]
    return [o for p in engine.level_prices(MARKET, side) for o in engine.level_orders(MARKET, side, p)]


@settings(max_examples=150, deadline=None)
@given(ops_strategy)
def test_every_order_ends_exactly_one_way(ops: list[tuple[object, ...]]) -> None:
    """A cancel racing a fill: an order is filled, or cancelled with the rest, never both, never lost."""
    engine = _engine()
    log = _run(engine, ops)
    per_order: dict[str, list[object]] = {}
    sizes = {req.client_id: req.size for req, _ in log if req is not None}
    for _, events in log:
        for _, e in events:
            per_order.setdefault(e.client_id, []).append(e)
    for client_id, events in per_order.items():
        if isinstance(events[0], Reject) and client_id in sizes:
            assert len([e for e in events if not isinstance(e, Reject)]) == 0
            continue
        filled = sum(e.size for e in events if isinstance(e, Fill))
        cancelled = [e for e in events if isinstance(e, CancelAck)]
        assert len(cancelled) <= 1
        if cancelled:
            assert events.index(cancelled[0]) > max(
                (i for i, e in enumerate(events) if isinstance(e, Fill)), default=-1
            )
            assert filled + cancelled[0].remaining == sizes[client_id]
            assert engine.order(_account_of(log, client_id), client_id) is None
        else:
            live = engine.order(_account_of(log, client_id), client_id)
            assert filled + (live.remaining if live else 0) == sizes[client_id]


def _account_of(log: list[tuple[OrderRequest | None, Events]], client_id: str) -> str:
    for _, events in log:
        for account, e in events:
            if e.client_id == client_id:
                return account
    raise AssertionError(client_id)


@settings(max_examples=100, deadline=None)
@given(ops_strategy)
def test_cancels_are_idempotent(ops: list[tuple[object, ...]]) -> None:
    engine = _engine()
    log = _run(engine, ops)
    for request, events in log:
        if request is None or not isinstance(events[0][1], Ack):
            continue
        account = events[0][0]
        engine.cancel(account, CancelRequest(request.client_id, MARKET), 10_000)
        before = (engine.balance(account, MARKET), engine.open_orders(account))
        second = engine.cancel(account, CancelRequest(request.client_id, MARKET), 10_001)
        assert [type(e) for _, e in second] == [Reject]
        assert second[0][1].reason is RejectReason.UNKNOWN_ORDER  # type: ignore[union-attr]
        assert (engine.balance(account, MARKET), engine.open_orders(account)) == before


def test_self_trade_prevention_expires_the_taker() -> None:
    engine = _engine()
    engine.submit("a", OrderRequest("m", MARKET, Side.SELL, 100, 2), 0)
    events = engine.submit("a", OrderRequest("t", MARKET, Side.BUY, 100, 2), 1)
    assert [(type(e), getattr(e, "reason", None)) for _, e in events] == [(Reject, RejectReason.SELF_TRADE)]
    assert engine.order("a", "m") is not None


def test_fees_and_balances_of_one_match() -> None:
    engine = _engine(maker_ppm=-100, taker_ppm=700)
    engine.submit("a", OrderRequest("m", MARKET, Side.SELL, 100, 2), 0)
    events = engine.submit("b", OrderRequest("t", MARKET, Side.BUY, 101, 3), 1)
    kinds = [(acct, type(e).__name__) for acct, e in events]
    assert kinds == [("b", "Ack"), ("a", "Fill"), ("b", "Fill")]
    maker, taker = events[1][1], events[2][1]
    assert isinstance(maker, Fill) and isinstance(taker, Fill)
    assert (maker.price, maker.size, maker.fee) == (100, 2, 100 * 2 * -100)
    assert (taker.price, taker.size, taker.fee, taker.remaining) == (100, 2, 100 * 2 * 700, 1)
    assert engine.balance("b", MARKET).base == BASE0 + 2
    assert engine.balance("b", MARKET).quote == QUOTE0 - 100 * 2 * 1_000_000 - 140_000
    assert [o.client_id for o in engine.open_orders("b")] == ["t"]


def test_rejects_name_their_reason() -> None:
    engine = _engine()
    cases = [
        (OrderRequest("x1", MARKET, Side.BUY, 100, 0), RejectReason.NON_POSITIVE_SIZE),
        (OrderRequest("x2", MARKET, Side.BUY, 0, 1), RejectReason.NON_POSITIVE_PRICE),
        (OrderRequest("x3", "NOPE", Side.BUY, 100, 1), RejectReason.UNKNOWN_MARKET),
        (OrderRequest("x4", MARKET, Side.SELL, 100, BASE0 + 1), RejectReason.INSUFFICIENT_BALANCE),
        (OrderRequest("x5", MARKET, Side.BUY, 10**9, 10**6), RejectReason.INSUFFICIENT_BALANCE),
        (OrderRequest("x1", MARKET, Side.BUY, 100, 1), RejectReason.DUPLICATE_CLIENT_ID),
    ]
    for request, reason in cases:
        ((_, event),) = engine.submit("a", request, 0)
        assert isinstance(event, Reject) and event.reason is reason, (request, event)
    engine.submit("b", OrderRequest("ask", MARKET, Side.SELL, 100, 1), 0)
    ((_, event),) = engine.submit("a", OrderRequest("po", MARKET, Side.BUY, 100, 1, TimeInForce.POST_ONLY), 0)
    assert isinstance(event, Reject) and event.reason is RejectReason.POST_ONLY_WOULD_CROSS


@settings(max_examples=150, deadline=None)
@given(ops_strategy)
def test_level_sizes_are_the_sum_of_the_resting_orders(ops: list[tuple[object, ...]]) -> None:
    """The book keeps each level's total as orders rest, fill and leave; it must equal a recount."""
    engine = _engine()
    _run(engine, ops)
    for side in (Side.BUY, Side.SELL):
        bids, asks = engine.depth(MARKET, 100)
        for price, size in bids if side is Side.BUY else asks:
            recount = sum(o.remaining for o in engine.level_orders(MARKET, side, price))
            assert size == engine.level_size(MARKET, side, price) == recount > 0
