"""The trading core's cycle, its venue-event handling, the kill switch, and bad input: a reject storm,
malformed venue messages, an unknown market, and NaN from a real TorchScript model."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from numpy.typing import NDArray

from flashmm_engine.execution.client_ids import ClientIdSource, MemorySequenceStore
from flashmm_engine.execution.core import TradingCore
from flashmm_engine.execution.orders import OrderManager
from flashmm_engine.risk.gate import RiskGate
from flashmm_engine.risk.limits import RiskLimits
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.strategy.avellaneda import MarketMakerQuoter, QuoterParams
from flashmm_engine.strategy.ml_skew import SkewParams
from flashmm_engine.strategy.prediction import ModelPredictor
from flashmm_engine.types import (
    NS_PER_MS,
    Ack,
    BookTop,
    CancelAck,
    FeedView,
    Fill,
    Liquidity,
    MarketSpec,
    Reject,
    RejectReason,
    Side,
    TradingState,
)

SPEC = MarketSpec("M", Decimal("0.01"), Decimal("0.1"))
CYCLE = 200 * NS_PER_MS


def make_core(skew: bool = False, **limits: Any) -> tuple[TradingCore, ManualClock]:
    clock = ManualClock(10**12)
    params = QuoterParams(model="glft", skew=SkewParams(inference_budget_ns=None) if skew else None)
    core = TradingCore(
        SPEC,
        clock,
        MarketMakerQuoter("M", params),
        RiskGate(RiskLimits(max_notional=10**18, max_position_lots=20, **limits), clock.now_ns()),
        OrderManager("M", ack_timeout_ns=2_000 * NS_PER_MS),
        ClientIdSource("t1", MemorySequenceStore()),
    )
    return core, clock


def tick(clock: ManualClock, market: str = "M", bid: int = 10_000, **kw: Any) -> FeedView:
    clock.advance_to(clock.now_ns() + CYCLE)
    now = clock.now_ns()
    return FeedView(market, now, BookTop(bid, 5, bid + 2, 5), book_ts_ns=now, **kw)


def ack_all(core: TradingCore) -> None:
    """The venue accepts every new order and every cancel."""
    for order in core.working_orders():
        if order.cancel_sent:
            core.on_venue_event(CancelAck(order.client_id, 0, order.remaining))
        else:
            core.on_venue_event(Ack(order.client_id, "v-" + order.client_id, 0))


def fill(core: TradingCore, n: int, size: int = 1, side: Side = Side.BUY, cid: str | None = None) -> Fill:
    client_id = cid or next(o.client_id for o in core.working_orders() if o.side is side)
    return Fill(f"f{n}", client_id, "v", "M", side, 10_000, size, 0, Liquidity.MAKER, 0, 0)


def test_a_cycle_quotes_both_sides_and_leaves_unchanged_quotes_alone() -> None:
    core, clock = make_core()
    first = core.cycle(tick(clock), clock.now_ns())
    assert {o.side for o in first.places} == {Side.BUY, Side.SELL} and not first.cancels
    assert all(o.client_id.startswith("t1-") for o in first.places)
    busy = core.cycle(tick(clock), clock.now_ns())
    assert busy.empty and core.metrics.busy_cycles == 1  # the first batch is unanswered
    ack_all(core)
    same = core.cycle(tick(clock), clock.now_ns())
    assert same.empty  # unchanged targets: working orders keep their queue position
    moved = core.cycle(tick(clock, bid=10_050), clock.now_ns())
    assert len(moved.cancels) == 2 and len(moved.places) == 2  # one batch: cancels, then places


def test_fills_move_inventory_once_and_unknown_fills_are_kept() -> None:
    core, clock = make_core()
    core.cycle(tick(clock), clock.now_ns())
    ack_all(core)
    f = fill(core, 1, size=1)
    core.on_venue_event(f)
    core.on_venue_event(f)  # a duplicate message
    assert core.position == 1 and core.metrics.duplicate_fills == 1
    core.on_venue_event(fill(core, 2, size=2, side=Side.SELL, cid="t1-999"))  # not an order we know
    assert core.position == -1  # nothing lost: the position follows every fill
    assert core.bad_input.counts["fill_unknown_order"] == 1


def test_kill_switch_cancels_everything_and_halts() -> None:
    core, clock = make_core()
    core.cycle(tick(clock), clock.now_ns())
    ack_all(core)
    core.cycle(tick(clock, bid=10_050), clock.now_ns())  # replacements sent, not yet acked: in flight
    batch = core.kill("operator")
    live = {o.client_id for o in core.working_orders()}
    assert {c.client_id for c in batch.cancels} == {o for o in live if o not in {"t1-1", "t1-2"}}
    assert core.state.state is TradingState.HALTED and core.state.reason == "operator"
    for order in core.working_orders():
        core.on_venue_event(CancelAck(order.client_id, 0, 0))
    for _ in range(3):
        assert not core.cycle(tick(clock), clock.now_ns()).places


def test_reject_storm_halts_with_a_reason_and_is_counted() -> None:
    core, clock = make_core(reject_storm=6)
    for i in range(3):
        batch = core.cycle(tick(clock, bid=10_000 + 10 * i), clock.now_ns())
        for order in batch.places:
            core.on_venue_event(Reject(order.client_id, RejectReason.POST_ONLY_WOULD_CROSS, "cross", 0))
    assert core.metrics.rejects["post_only_would_cross"] == 6
    assert (core.state.state, core.state.reason) == (TradingState.HALTED, "reject_storm")
    assert core.working_orders() == ()  # every rejected order is finished, none lost in between
    assert not core.cycle(tick(clock), clock.now_ns()).places  # halted: no new order
    core.resume("operator")
    assert core.cycle(tick(clock), clock.now_ns()).places  # and back after a resume


def test_an_ack_or_fill_breaks_a_run_of_rejects() -> None:
    core, clock = make_core(reject_storm=3)
    batch = core.cycle(tick(clock), clock.now_ns())
    core.on_venue_event(Reject(batch.places[0].client_id, RejectReason.RATE_LIMIT, "slow down", 0))
    core.on_venue_event(Reject("t1-x", RejectReason.UNKNOWN_ORDER, "?", 0))
    core.on_venue_event(Ack(batch.places[1].client_id, "v", 0))
    core.on_venue_event(Reject("t1-y", RejectReason.UNKNOWN_ORDER, "?", 0))
    assert core.state.state is TradingState.ACTIVE


@pytest.mark.parametrize("message", [{"type": "fill", "size": "1"}, None, "garbage", 17])
def test_malformed_venue_messages_are_counted_and_ignored(message: object) -> None:
    core, clock = make_core()
    core.cycle(tick(clock), clock.now_ns())
    core.on_venue_event(message)
    assert core.bad_input.counts["malformed_venue_event"] == 1
    assert core.state.state is TradingState.ACTIVE and len(core.working_orders()) == 2


def test_a_malformed_fill_halts_and_later_fills_still_count() -> None:
    core, clock = make_core()
    core.cycle(tick(clock), clock.now_ns())
    ack_all(core)
    bad = fill(core, 1, size=-3)
    core.on_venue_event(bad)
    assert core.bad_input.counts["malformed_fill"] == 1 and core.position == 0
    assert (core.state.state, core.state.reason) == (TradingState.HALTED, "malformed_fill")
    core.on_venue_event(fill(core, 2, size=1))
    assert core.position == 1


def test_unknown_market_is_counted_and_never_quoted() -> None:
    core, clock = make_core()
    batch = core.cycle(tick(clock, market="OTHER"), clock.now_ns())
    assert batch.empty and batch.market == "OTHER"
    assert core.bad_input.counts["unknown_market"] == 1 and core.metrics.cycles == 0
    core.on_venue_event(Fill("x", "t1-1", "v", "OTHER", Side.BUY, 1, 1, 0, Liquidity.MAKER, 0, 0))
    assert core.bad_input.counts["fill_unknown_market"] == 1 and core.position == 0
    batch = core.cycle(tick(clock), clock.now_ns())
    core.on_venue_event(Reject(batch.places[0].client_id, RejectReason.UNKNOWN_MARKET, "no such market", 0))
    assert core.metrics.rejects["unknown_market"] == 1 and len(core.working_orders()) == 1


class NaNAfter(torch.nn.Module):
    """(batch, features) -> (batch, 1 horizon, 3): a distribution, or NaN when the first feature is > 0."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(torch.stack([x[:, 0] * 0, x[:, 0] * 0 + 1, x[:, 0] * 0], dim=1), dim=1)
        nan = torch.full_like(probs, float("nan"))
        return torch.where((x[:, :1] > 0), nan, probs).unsqueeze(1)


class Scripted:
    def __init__(self, path: Path) -> None:
        module = torch.jit.script(NaNAfter())
        module.save(str(path))  # type: ignore[no-untyped-call]
        self.module = torch.jit.load(str(path))  # type: ignore[no-untyped-call]

    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        with torch.no_grad():
            return self.module(torch.from_numpy(x)).numpy()  # type: ignore[no-any-return]


def test_nan_from_the_model_falls_back_to_base_quotes_and_is_counted(tmp_path: Path) -> None:
    predictor = ModelPredictor(Scripted(tmp_path / "nan.pt"), "nan-v1", ["200ms"], (4,), 0.5)
    core, clock = make_core(skew=True)
    plain, plain_clock = make_core(skew=False)

    def cycle(first_feature: float) -> None:
        features = np.array([first_feature, 0.0, 0.0, 0.0])
        view = tick(clock)
        prediction = predictor.predict(features, view.top.mid_x2, view.ts_ns)  # type: ignore[union-attr]
        batch = core.cycle(
            FeedView("M", view.ts_ns, view.top, book_ts_ns=view.ts_ns, warm=True, prediction=prediction),
            clock.now_ns(),
        )
        plain.cycle(tick(plain_clock), plain_clock.now_ns())
        assert core.last_targets is not None and plain.last_targets is not None
        if first_feature > 0:  # exactly the base quotes of a core without a model
            assert core.last_targets.quotes == plain.last_targets.quotes
            assert not batch.places or core.metrics.fallbacks["model_nan"] == 1
        ack_all(core)
        ack_all(plain)

    cycle(0.0)
    assert core.metrics.model_cycles == 1
    for _ in range(3):
        cycle(1.0)
    assert core.metrics.fallbacks["model_nan"] == 3 and core.status()["last_fallback"] == "model_nan"
    assert core.state.state is TradingState.ACTIVE and len(core.working_orders()) == 2  # still quoting
    cycle(0.0)
    assert core.metrics.model_cycles == 2
