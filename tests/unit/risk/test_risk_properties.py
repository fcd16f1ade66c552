"""Property tests of the pre-trade gate over random paths, fills, partial fills and message latencies.

Each example is a random sequence of steps: quote cycles (with random targets, a random walk of the mid and
random time steps), requests reaching the venue, answers reaching the core (so latency is a random number of
steps), partial and full fills, rejects, trading-state changes and stale or resyncing feeds. After every step
the truth at the venue is checked."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flashmm_engine.risk.limits import RiskLimits
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.types import NOTIONAL_SCALE, NS_PER_MS, Side, TradingState
from tests.unit.risk.harness import ToyVenue, feed, make_core

MAX_LOTS = 10
STALE_NS = 1_000 * NS_PER_MS

quote = st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 20), st.integers(1, 6))
step = st.one_of(
    st.tuples(st.just("cycle"), st.lists(quote, max_size=6), st.integers(-3, 3), st.integers(1, 400)),
    st.tuples(st.just("to_venue"), st.booleans()),
    st.tuples(st.just("to_core")),
    st.tuples(st.just("fill"), st.integers(0, 50), st.floats(0.1, 1.0)),
    st.tuples(st.just("state"), st.sampled_from(["halt", "reduce", "resume"])),
    st.tuples(st.just("stale"), st.booleans()),
)


def run(steps: list[tuple[Any, ...]], limits: RiskLimits, fixed_mid: bool = False) -> dict[str, int]:
    clock = ManualClock(10**12)
    core, quoter = make_core(limits, clock)
    venue = ToyVenue()
    mid, stats = 100_000, {"cycles": 0, "places": 0, "stale_pulls": 0, "reducing_places": 0}
    for item in steps:
        kind = item[0]
        if kind == "cycle" or kind == "stale":
            if kind == "cycle":
                quotes, move, dt_ms = item[1], item[2], item[3]
                quoter.next_quotes = list(quotes)
                mid += 0 if fixed_mid else move
                clock.advance_to(clock.now_ns() + dt_ms * NS_PER_MS)
                view = feed(mid, clock.now_ns())
            else:
                resyncing = bool(item[1])
                clock.advance_to(clock.now_ns() + 10 * NS_PER_MS)
                old = clock.now_ns() - STALE_NS - 1
                view = feed(mid, clock.now_ns(), book_ts=old, synced=not resyncing)
            before = {o.client_id for o in core.working_orders() if not o.cancel_sent}
            state, position = core.state.state, core.position
            worst_before = {s: venue.worst_case(s) for s in Side}
            batch = core.cycle(view, clock.now_ns())
            stats["cycles"] += 1
            stats["places"] += len(batch.places)
            if kind == "stale":  # pulled within this very cycle: every live quote cancelled, none placed
                assert not batch.places
                assert {c.client_id for c in batch.cancels} == before
                stats["stale_pulls"] += bool(before)
            if state is TradingState.HALTED:
                assert not batch.places
            if state is TradingState.REDUCING:
                for order in batch.places:
                    stats["reducing_places"] += 1
                    assert order.side.sign * position < 0, "REDUCING placed an order that grows the position"
                    same_side = [o for o in batch.places if o.side is order.side]
                    after = worst_before[order.side] + order.side.sign * sum(o.size for o in same_side)
                    assert after * position >= 0, "REDUCING could flip the position"
            venue.send(batch)
        elif kind == "to_venue":
            venue.deliver_request(reject_it=bool(item[1]))
        elif kind == "to_core":
            venue.deliver_answer(core)
        elif kind == "fill":
            venue.fill(item[1], item[2])
        elif item[1] == "halt":
            core.halt("test")
        elif item[1] == "reduce":
            core.reduce_only("test")
        else:
            core.resume("test")
        for side in Side:
            worst = venue.worst_case(side)
            assert abs(worst) <= MAX_LOTS, f"{side.name} worst case {worst} over the limit"
            if fixed_mid and limits.max_notional < 10**18:
                assert abs(worst) * (mid + 20) * NOTIONAL_SCALE <= limits.max_notional
    assert abs(venue.position) <= MAX_LOTS
    return stats


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(step, min_size=1, max_size=120))
def test_position_limit_holds_in_the_worst_case(steps: list[tuple[Any, ...]]) -> None:
    run(
        steps,
        RiskLimits(
            max_notional=10**18, max_position_lots=MAX_LOTS, max_orders_per_s=10**6, max_orders_per_min=10**6
        ),
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(step, min_size=1, max_size=120))
def test_notional_limit_holds_in_the_worst_case(steps: list[tuple[Any, ...]]) -> None:
    # 10 lots at the highest quotable price (mid + 20 ticks) is the notional limit
    limit = MAX_LOTS * 100_020 * NOTIONAL_SCALE
    run(
        steps,
        RiskLimits(max_notional=limit, max_orders_per_s=10**6, max_orders_per_min=10**6),
        fixed_mid=True,
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(step, min_size=20, max_size=150))
def test_throttles_cap_new_orders_per_second_and_minute(steps: list[tuple[Any, ...]]) -> None:
    limits = RiskLimits(
        max_notional=10**18, max_position_lots=MAX_LOTS, max_orders_per_s=3, max_orders_per_min=20
    )
    clock_sends: list[int] = []
    clock = ManualClock(10**12)
    core, quoter = make_core(limits, clock)
    venue = ToyVenue()
    for item in steps:
        if item[0] == "cycle":
            quoter.next_quotes = list(item[1])
            clock.advance_to(clock.now_ns() + item[3] * NS_PER_MS)
            batch = core.cycle(feed(100_000, clock.now_ns()), clock.now_ns())
            clock_sends += [clock.now_ns()] * len(batch.places)
            venue.send(batch)
        elif item[0] == "to_venue":
            venue.deliver_request(reject_it=bool(item[1]))
        elif item[0] == "to_core":
            venue.deliver_answer(core)
    for t in clock_sends:
        assert sum(1 for s in clock_sends if t - 1_000 * NS_PER_MS < s <= t) <= 3
        assert sum(1 for s in clock_sends if t - 60_000 * NS_PER_MS < s <= t) <= 20


def test_the_properties_are_exercised() -> None:
    """The paths do reach the states the properties are about (a property never exercised proves nothing):
    here buys fill until the position is long, then REDUCING lets only sells out, a stale feed pulls live
    quotes, and HALTED stops everything."""
    steps: list[tuple[Any, ...]] = []
    for i in range(60):
        quotes = [(Side.BUY, 1, 2)] if i < 15 else [(Side.BUY, 1, 2), (Side.SELL, 1, 2)]
        steps += [
            ("cycle", quotes, 1, 250),
            ("to_venue", False),
            ("to_venue", False),
            ("to_core",),
            ("to_core",),
        ]
        if i < 15 or i % 2:
            steps += [("fill", 0, 0.5), ("to_core",)]
        if i == 3:
            steps.append(("stale", False))
        if i == 20:
            steps.append(("state", "reduce"))
        if i == 40:
            steps.append(("state", "halt"))
    stats = run(steps, RiskLimits(max_notional=10**18, max_position_lots=MAX_LOTS))
    assert stats["places"] > 10 and stats["reducing_places"] > 0 and stats["stale_pulls"] == 1
