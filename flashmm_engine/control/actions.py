"""What each control action does to the markets. Every action runs on the event loop between cycles, so it
changes the trading core without locks; orders still pass through the core and its risk gate.

- pause: HALTED (operator_pause); the next cycle cancels every working order and places none.
- halt: the kill switch: HALTED (operator_halt) and cancels for every working order sent now.
- resume: ACTIVE again, only from a state an operator caused (or a reject storm). A fail-closed halt
  (ledger write failed, reconciliation disagreed, malformed fill, daily loss) is refused: restart the
  engine so it reconciles.
- flatten: REDUCING (operator_flatten): only orders that shrink the position pass the risk gate, so the
  position is worked down with post-only quotes, and nothing is quoted once it is flat.
- cancel-all: cancels every open order of ours now, the ones the order manager tracks and any the venue
  shows that it does not (orphans); the trading state is unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flashmm_engine.engine.market_task import MarketRunner
from flashmm_engine.types import CancelRequest, QuoteBatch, TradingState
from flashmm_engine.venues.base import VenueError

log = logging.getLogger(__name__)

ReloadHook = Callable[[], Awaitable[dict[str, Any]]]
"""Asks the hot-reload code to check for a new model now; returns what it did (JSON-able)."""

OPERATOR_REASONS = ("operator_pause", "operator_halt", "operator_flatten")
RESUMABLE_REASONS = (*OPERATOR_REASONS, "reject_storm", "start")
ACTIONS = ("pause", "resume", "halt", "flatten", "cancel-all", "reload")


@dataclass
class ActionOutcome:
    status: int
    result: str
    """ok, refused, unknown_market, not_available or failed: what the audit table records."""
    markets: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    def body(self, action: str) -> dict[str, Any]:
        return {"action": action, "result": self.result, "markets": self.markets, **self.detail}


class ControlActions:
    def __init__(
        self,
        runners: Callable[[], Sequence[MarketRunner]],
        reload: Callable[[], ReloadHook | None],
    ) -> None:
        self._runners = runners
        self._reload_hook = reload

    async def run(self, action: str, market: str | None) -> ActionOutcome:
        if action == "reload":
            return await self._reload()
        runners = [r for r in self._runners() if market is None or r.market == market]
        if not runners:
            return ActionOutcome(404, "unknown_market", detail={"error": f"no running market {market!r}"})
        outcome = ActionOutcome(200, "ok")
        for runner in runners:
            try:
                outcome.markets[runner.market] = await self._one(action, runner)
            except VenueError as exc:
                runner.alert("control_action_failed", f"{action}: {exc}")
                outcome.markets[runner.market] = {"error": str(exc)}
                outcome.status, outcome.result = 502, "failed"
            runner.check_state()
            runner.record("control_action", action=action, result=outcome.markets[runner.market])
        if outcome.result == "ok" and any("refused" in m for m in outcome.markets.values()):
            outcome.status, outcome.result = 409, "refused"
        return outcome

    async def _one(self, action: str, runner: MarketRunner) -> dict[str, Any]:
        core = runner.core
        before = core.state
        now = core.clock.now_ns()
        if action == "pause":
            core.risk.escalate(TradingState.HALTED, "operator_pause", now)
        elif action == "halt":
            batch = core.kill("operator_halt")
            if not batch.empty:
                await runner.send(batch)
            return _changed(runner, before, cancels_sent=len(batch.cancels))
        elif action in ("resume", "flatten"):
            if before.state is not TradingState.ACTIVE and before.reason not in RESUMABLE_REASONS:
                return {
                    "refused": f"{before.state.value} ({before.reason}) is fail-closed: restart the "
                    "engine so it reconciles",
                    "state": before.state.value,
                }
            target = TradingState.ACTIVE if action == "resume" else TradingState.REDUCING
            reason = "operator_resume" if action == "resume" else "operator_flatten"
            core.risk.set_state(target, reason, now)
        elif action == "cancel-all":
            return _changed(runner, before, cancels_sent=await _cancel_all(runner))
        else:
            raise ValueError(f"unknown control action {action!r}")
        return _changed(runner, before)

    async def _reload(self) -> ActionOutcome:
        hook = self._reload_hook()
        if hook is None:
            return ActionOutcome(501, "not_available", detail={"error": "hot reload is not available"})
        try:
            detail = await hook()
        except Exception as exc:  # noqa: BLE001 - any reload failure is reported to the operator, not raised
            log.error("control reload failed: %s", exc)
            return ActionOutcome(500, "failed", detail={"error": f"{type(exc).__name__}: {exc}"})
        return ActionOutcome(200, "ok", detail=detail)


async def _cancel_all(runner: MarketRunner) -> int:
    core = runner.core
    tracked = core.orders.cancel_requests(core.working_orders(), core.clock.now_ns())
    known = {o.client_id for o in core.working_orders()}
    prefix = core.ids.prefix
    open_orders = await runner.link.venue.open_orders(runner.market)
    orphans = tuple(
        CancelRequest(o.client_id, runner.market)
        for o in open_orders
        if o.client_id.startswith(prefix) and o.client_id not in known
    )
    batch = QuoteBatch(runner.market, cancels=tracked + orphans)
    if not batch.empty:
        await runner.send(batch)
    return len(batch.cancels)


def _changed(runner: MarketRunner, before: Any, **extra: Any) -> dict[str, Any]:
    after = runner.core.state
    return {
        "state": after.state.value,
        "reason": after.reason,
        "changed": after != before,
        **extra,
    }
