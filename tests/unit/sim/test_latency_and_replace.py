"""Latency models, and cancel-replace in the matching engine."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from flashmm_engine.types import Ack, CancelAck, CancelRequest, MarketSpec, OrderRequest, Reject, Side
from flashmm_engine.venues.sim.latency import ConstantLatency, EmpiricalLatency, parse_latency
from flashmm_engine.venues.sim.market_config import SimMarket
from flashmm_engine.venues.sim.matching import MatchingEngine


def test_latency_parsing_and_seeded_sampling(tmp_path: Path) -> None:
    assert parse_latency("10") == ConstantLatency(10_000_000)
    assert parse_latency("0.5ms") == ConstantLatency(500_000)
    recorded = tmp_path / "lat.txt"
    recorded.write_text("1000\n2000\n3000\n")
    a, b = parse_latency(f"file:{recorded}", seed=3), parse_latency(f"file:{recorded}", seed=3)
    draws = [a.draw_ns() for _ in range(50)]
    assert draws == [b.draw_ns() for _ in range(50)] and set(draws) == {1000, 2000, 3000}
    for bad in ("-1", "fast"):
        with pytest.raises(ValueError):
            parse_latency(bad)
    with pytest.raises(ValueError):
        EmpiricalLatency([], seed=0)


def test_cancel_replace_is_atomic_and_stops_on_a_failed_cancel() -> None:
    engine = MatchingEngine([SimMarket(MarketSpec("M", Decimal("0.01"), Decimal("0.001")), allow_short=True)])
    engine.fund("a", "M", quote=10**15)
    engine.submit("a", OrderRequest("o1", "M", Side.BUY, 100, 2), 0)
    events = engine.cancel_replace(
        "a", CancelRequest("o1", "M"), OrderRequest("o2", "M", Side.BUY, 101, 2), 1
    )
    assert [type(e) for _, e in events] == [CancelAck, Ack]
    assert [o.client_id for o in engine.open_orders("a")] == ["o2"]
    failed = engine.cancel_replace(
        "a", CancelRequest("o1", "M"), OrderRequest("o3", "M", Side.BUY, 102, 2), 2
    )
    assert [type(e) for _, e in failed] == [Reject]
    assert [o.client_id for o in engine.open_orders("a")] == ["o2"]
